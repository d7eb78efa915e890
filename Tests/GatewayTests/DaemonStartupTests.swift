import Foundation
import Logging
import Synchronization
import Testing
import WireContract

@testable import Gateway

/// What `run` does before the daemon starts: find, load and validate the configuration, and log a
/// startup summary without secrets.
struct DaemonStartupTests {
    func writeConfiguration(in directory: borrowing TemporaryDirectory, signingKeyMode: Int = 0o600) throws -> String {
        let keyPath = directory.path + "/signing.key"
        _ = try KeyFile.generate(path: keyPath, bytes: 32)
        try FileManager.default.setAttributes([.posixPermissions: signingKeyMode], ofItemAtPath: keyPath)
        return try directory.write(
            "gateway.yaml",
            """
            wazuh:
              db_path: "\(directory.path)/missing/global.db"
              manager_node: "node-a"
            nats:
              url: "nats://127.0.0.1:4222"
            security:
              signing_key_path: "\(keyPath)"
            outbox:
              path: "\(directory.path)/state/outbox.db"

            """)
    }

    @Test func configurationPathComesFromTheArgumentThenTheEnvironment() {
        let environment = [DaemonStartup.configPathVariable: "/etc/from-env.yaml"]
        #expect(DaemonStartup.configurationPath(argument: "/etc/arg.yaml", environment: environment) == "/etc/arg.yaml")
        #expect(DaemonStartup.configurationPath(argument: nil, environment: environment) == "/etc/from-env.yaml")
        #expect(DaemonStartup.configurationPath(argument: nil, environment: [:]) == nil)
        #expect(DaemonStartup.configurationPath(argument: "", environment: [:]) == nil)
    }

    @Test func aMissingDatabaseIsAWarningNotAnError() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeConfiguration(in: directory)
        let loaded = try DaemonStartup.loadConfiguration(
            path: path, environment: [DaemonStartup.configPathVariable: path])
        #expect(loaded.configuration.wazuh.managerNode == "node-a")
        #expect(loaded.warnings.map(\.keyPath) == ["wazuh.db_path"])
    }

    @Test func otherFileProblemsStopTheStart() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeConfiguration(in: directory, signingKeyMode: 0o644)
        #expect {
            try DaemonStartup.loadConfiguration(path: path, environment: [:])
        } throws: { error in
            let errors = (error as? ConfigurationErrors)?.errors ?? []
            return errors.contains { $0.keyPath == "security.signing_key_path" }
                && !errors.contains { $0.keyPath == "wazuh.db_path" }
        }
    }

    @Test func startupSummaryNamesServersWithoutCredentials() {
        var configuration = GatewayConfiguration(
            managerNode: "node-a", natsURL: "nats://alice:s3cret@127.0.0.1:4222,tls://bob:hunter2@127.0.0.1:4223")
        configuration.nats.token = Secret("t0ken-value")
        configuration.security.encryptMessages = true
        let metadata = StartupSummary.metadata(
            configuration: configuration, configurationPath: "/etc/gw.yaml", version: GatewayDaemon.version)
        #expect(metadata["nats.servers"] == "nats://127.0.0.1:4222,tls://127.0.0.1:4223")
        #expect(metadata["nats.auth"] == "token")
        #expect(metadata["security.encryption"] == "on")
        #expect(metadata["gateway.config_path"] == "/etc/gw.yaml")
        let text = metadata.values.map { "\($0)" }.joined(separator: " ")
        for secret in ["s3cret", "hunter2", "t0ken-value", "alice", "bob"] {
            #expect(!text.contains(secret))
        }
    }

    @Test func signalEscalationExitsOnlyOnTheSecondSignal() {
        let exits = LockedStatuses()
        let logs = LogCapture()
        let escalation = SignalEscalation(signals: [], logger: logs.logger(), terminate: { exits.append($0) })
        escalation.received(SIGTERM)
        #expect(exits.values.isEmpty)
        #expect(logs.contains("termination signal received"))
        escalation.received(SIGINT)
        #expect(exits.values == [128 + SIGINT])
        #expect(logs.contains("second termination signal received"))
        #expect(escalation.receivedCount == 2)
    }
}

/// Exit statuses recorded by a test's `terminate` closure.
final class LockedStatuses: Sendable {
    private let storage = Mutex<[Int32]>([])

    func append(_ status: Int32) {
        self.storage.withLock { $0.append(status) }
    }

    var values: [Int32] { self.storage.withLock { $0 } }
}
