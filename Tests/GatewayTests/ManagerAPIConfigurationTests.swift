import Foundation
import Logging
import NATSTestSupport
import Testing

@testable import Gateway

/// The `api_*` keys under `managers:` entries: read per entry, refused with the entry's key path,
/// their files checked by `validate()`, the password never shown.
struct ManagerAPIConfigurationTests {
    typealias Support = ManagerConfigurationTests

    @Test func eachEntryReadsItsOwnAPIKeys() throws {
        let configuration = try Support.load(
            """
            managers:
              - manager_node: local
                db_path: /var/ossec/queue/db/global.db
              - manager_node: cloud-1
                source: api
                api_url: https://cloud-1.example:55000
                api_user: gateway
                api_password_file: /etc/wazuh-nats/cloud-1.password
                api_ca: /etc/wazuh-nats/cloud-1-ca.pem
                api_poll_interval: 2s
                api_requests_per_minute: 120
                api_page_size: 5000
              - manager_node: cloud-2
                source: api
                api_url: https://cloud-2.example:55000
                api_user: reader
                api_password_file: /etc/wazuh-nats/cloud-2.password
            """)
        let (local, first, second) = (configuration.managers[0], configuration.managers[1], configuration.managers[2])
        #expect(local.source != .api && local.api.url == nil)
        #expect(first.source == .api && second.source == .api)
        #expect(first.api.url == "https://cloud-1.example:55000" && second.api.url == "https://cloud-2.example:55000")
        #expect(first.api.user == "gateway" && second.api.user == "reader")
        #expect(first.api.caFile == "/etc/wazuh-nats/cloud-1-ca.pem" && second.api.caFile == nil)
        #expect(first.api.pollInterval == .seconds(2) && second.api.pollInterval == .seconds(5))
        #expect(first.api.requestsPerMinute == 120 && second.api.requestsPerMinute == 240)
        #expect(first.api.pageSize == 5000 && second.api.pageSize == 10_000)
        let description = configuration.effectiveDescription()
        #expect(description.contains("api_url: \"https://cloud-2.example:55000\""))
    }

    @Test func anAPIEntryWithoutItsKeysIsRefusedWithTheEntrysKeyPaths() {
        let problems = Support.problems(
            """
            managers:
              - manager_node: local
              - manager_node: cloud
                source: api
            """)
        let paths = Set(problems.compactMap(\.keyPath))
        #expect(paths.isSuperset(of: ["managers[1].api_url", "managers[1].api_user", "managers[1].api_password_file"]))
        #expect(!paths.contains { $0.hasPrefix("managers[0]") || $0.hasPrefix("wazuh.") })
        let message = problems.first { $0.keyPath == "managers[1].api_password_file" }?.message ?? ""
        #expect(message.contains("WAZUH_NATS_GATEWAY_API_PASSWORD"))
    }

    @Test func badURLsAndIntervalsAreRefused() {
        func problems(_ keys: String) -> [ConfigurationError] {
            Support.problems(
                "managers:\n  - manager_node: a\n  - manager_node: b\n    source: api\n    api_user: u\n"
                    + "    api_password_file: /p\n" + keys)
        }
        let plain = problems("    api_url: http://wazuh:55000\n")
        #expect(plain.contains { $0.keyPath == "managers[1].api_url" && $0.message.contains("https://") })
        let withCredentials = problems("    api_url: https://user:secret@wazuh:55000\n")
        #expect(withCredentials.contains { $0.keyPath == "managers[1].api_url" && $0.message.contains("credentials") })
        #expect(!withCredentials.contains { $0.message.contains("secret") })
        let fast = problems("    api_url: https://wazuh:55000\n    api_poll_interval: 10ms\n")
        #expect(fast.contains { $0.keyPath == "managers[1].api_poll_interval" })
        let budget = problems("    api_url: https://wazuh:55000\n    api_requests_per_minute: 0\n")
        #expect(budget.contains { $0.keyPath == "managers[1].api_requests_per_minute" })
        let unknown = problems("    api_url: https://wazuh:55000\n    api_pasword_file: /x\n")
        #expect(unknown.contains { $0.keyPath == "managers[1].api_pasword_file" })
    }

    @Test func twoAPIManagersWithTheSameNodeAreRefused() {
        let problems = Support.problems(
            """
            managers:
              - manager_node: cloud
                source: api
                api_url: https://one:55000
                api_user: u
                api_password_file: /p
              - manager_node: cloud
                source: api
                api_url: https://two:55000
                api_user: u
                api_password_file: /p
            """)
        #expect(problems.map(\.keyPath) == ["managers[1].manager_node"])
    }

    @Test func validateChecksEachEntrysPasswordFileAndCA() throws {
        let directory = try TemporaryDirectory()
        let open = try directory.write("open.password", "hunter2-Secret\n", mode: 0o644)
        let notPEM = try directory.write("ca.pem", "hunter3-not-a-certificate\n", mode: 0o644)
        var configuration = try Support.load(
            """
            managers:
              - manager_node: missing
                source: api
                api_url: https://a:55000
                api_user: u
                api_password_file: \(directory.path)/absent.password
              - manager_node: exposed
                source: api
                api_url: https://b:55000
                api_user: u
                api_password_file: \(open)
                api_ca: \(notPEM)
            """)
        configuration.outbox.path = directory.path + "/outbox.db"
        let problems = configuration.fileProblems()
        func messages(_ keyPath: String) -> [String] { problems.filter { $0.keyPath == keyPath }.map(\.message) }
        #expect(messages("managers[0].api_password_file").contains { $0.contains("does not exist") })
        #expect(messages("managers[1].api_password_file").contains { $0.contains("chmod 600") })
        #expect(messages("managers[1].api_ca").contains { $0.contains("is not PEM") })
        #expect(!problems.contains { $0.message.contains("hunter") })
        // No db_path check for an API manager: it has no local database.
        #expect(!problems.contains { $0.keyPath?.hasSuffix("db_path") == true })
    }

    @Test func theDaemonRefusesToBuildAnAPISourceWithoutItsPasswordNamingTheEntry() throws {
        let configuration = try Support.load(
            """
            managers:
              - manager_node: local
              - manager_node: cloud
                source: api
                api_url: https://cloud:55000
                api_user: u
                api_password_file: /nonexistent/cloud.password
            """)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        do {
            _ = try makeAgentStatusSource(
                wazuh: configuration.managers[1], section: configuration.managerKeyPrefix(1), clientKeysPath: nil,
                logger: logger)
            Issue.record("expected the source to be refused")
        } catch let error as DaemonError {
            #expect(error.code == .sourceUnavailable)
            #expect("\(error.underlying.map { "\($0)" } ?? "")".contains("managers[1].api_password_file"))
        }
        let fromEnvironment = try Support.load(
            "managers:\n  - manager_node: cloud\n    source: api\n    api_url: https://cloud:55000\n    api_user: u\n",
            environment: ["WAZUH_NATS_GATEWAY_API_PASSWORD": "from-env"])
        #expect(try fromEnvironment.managers[0].api.loadPassword(section: "managers[0]").revealed == "from-env")
        #expect(!fromEnvironment.effectiveDescription().contains("from-env"))
    }
}
