import Foundation
import Testing
import WireContract

@testable import Gateway

/// `managers:`: entries parsed like `wazuh:`, the combinations refused, `check-config`'s listing, and
/// the single-manager ids unchanged.
struct ManagerConfigurationTests {
    static let tail = """
        nats:
          url: "nats://127.0.0.1:4222"
        security:
          signing_key_path: "/etc/wazuh-nats/signing.key"
        """

    static func load(_ managers: String, environment: [String: String] = [:]) throws -> GatewayConfiguration {
        try GatewayConfiguration.load(yaml: managers + "\n" + Self.tail, environment: environment)
    }

    static func problems(_ managers: String, environment: [String: String] = [:]) -> [ConfigurationError] {
        do {
            _ = try Self.load(managers, environment: environment)
            return []
        } catch let errors as ConfigurationErrors {
            return errors.errors
        } catch {
            return []
        }
    }

    @Test func entriesTakeTheKeysOfTheWazuhSection() throws {
        let configuration = try Self.load(
            """
            managers:
              - manager_node: eu-1
                db_path: /srv/eu/global.db
                poll_interval: 2s
              - manager_node: us-1
                install_root: /srv/us
                source: wazuh-db
                socket_poll_interval: 500ms
            """)
        #expect(configuration.hasManagerList)
        #expect(configuration.managers.map(\.managerNode) == ["eu-1", "us-1"])
        #expect(configuration.managers[0].dbPath == "/srv/eu/global.db")
        #expect(configuration.managers[0].pollInterval == .seconds(2))
        #expect(configuration.managers[1].dbPath == "/srv/us/queue/db/global.db")
        #expect(configuration.managers[1].socketPath == "/srv/us/queue/db/wdb")
        #expect(configuration.managers[1].source == .wazuhDB)
        #expect(configuration.managers[1].socketPollInterval == .milliseconds(500))
        #expect(configuration.watchedManagers == configuration.managers)
        let description = configuration.effectiveDescription()
        #expect(description.contains("managers:\n  - install_root: \"/var/ossec\"\n"))
        #expect(description.contains("    manager_node: \"us-1\"\n"))
        #expect(!description.contains("\nwazuh:"))
    }

    @Test func theSingleWazuhSectionIsOneUnscopedManager() throws {
        let configuration = try Self.load("wazuh:\n  manager_node: solo\n")
        #expect(!configuration.hasManagerList)
        #expect(configuration.watchedManagers.map(\.managerNode) == ["solo"])
        #expect(configuration.effectiveDescription().hasPrefix("wazuh:\n"))
    }

    @Test func duplicateManagerNodesAreRefused() {
        let problems = Self.problems(
            """
            managers:
              - manager_node: eu-1
              - manager_node: us-1
              - manager_node: eu-1
            """)
        #expect(problems.count == 1)
        #expect(problems.first?.keyPath == "managers[2].manager_node")
        #expect(problems.first?.message.contains("already used by managers[0]") == true)
        let sameToken = Self.problems("managers:\n  - manager_node: eu.1\n  - manager_node: eu_1\n")
        #expect(sameToken.first?.message.contains("the same subject token \"eu_1\"") == true)
    }

    @Test func wazuhAndManagersTogetherAnEmptyListAndBadEntriesAreRefused() {
        let both = Self.problems("wazuh:\n  manager_node: a\nmanagers:\n  - manager_node: b\n")
        #expect(both.contains { $0.keyPath == "managers" && $0.message.contains("not both") })
        let overridden = Self.problems(
            "managers:\n  - manager_node: b\n", environment: ["WAZUH_NATS_GATEWAY_WAZUH_DB_PATH": "/x"])
        #expect(overridden.contains { $0.keyPath == "managers" && $0.message.contains("not both") })
        let empty = Self.problems("managers: []\n")
        #expect(empty.contains { $0.keyPath == "managers" && $0.message.contains("at least one manager") })
        let scalar = Self.problems("managers:\n  - eu-1\n")
        #expect(scalar.contains { $0.keyPath == "managers[0]" && $0.code == .wrongType })
        let unknown = Self.problems("managers:\n  - manager_node: a\n    db_pth: /x\n")
        #expect(unknown.contains { $0.keyPath == "managers[0].db_pth" && $0.message.contains("db_path") })
        let missing = Self.problems("managers:\n  - db_path: /x\n")
        #expect(missing.contains { $0.keyPath == "managers[0].manager_node" && $0.code == .missingKey })
        let invalid = Self.problems("managers:\n  - manager_node: a\n    poll_interval: 0ms\n")
        #expect(invalid.contains { $0.keyPath == "managers[0].poll_interval" })
    }

    @Test func aMissingDatabaseOfOneManagerIsAWarningAtStart() throws {
        let directory = try TemporaryDirectory()
        let key = try directory.write("signing.key", String(repeating: "A", count: 44))
        let path = try directory.write(
            "gateway.yaml",
            """
            managers:
              - manager_node: eu-1
                db_path: \(directory.path)/eu/global.db
              - manager_node: us-1
                db_path: \(directory.path)/us/global.db
            nats:
              url: "nats://127.0.0.1:4222"
            security:
              signing_key_path: \(key)
            outbox:
              path: \(directory.path)/outbox.db
            """)
        let loaded = try DaemonStartup.loadConfiguration(path: path, environment: [:])
        #expect(Set(loaded.warnings.compactMap(\.keyPath)) == ["managers[0].db_path", "managers[1].db_path"])
    }

    /// The id of one known single-manager transition, pinned: `managers:` must never change it.
    @Test func singleManagerEventIDsAreUnchanged() {
        let id = EventID.make(
            agentID: 1, kind: "status_change", previous: "Active", current: "Disconnected", dateAdd: 1_700_000_000,
            transitionTime: 1_716_897_300)
        #expect(id == "evt_001_1716897300_38c0d487f48f8234")
        #expect(ManagerScope.scoped(id, by: nil) == id)
        #expect(ManagerScope.scoped(id, by: ManagerScope(managerNode: "eu.1")) == id + "@eu_1")
    }
}
