import Foundation
import Logging
import NATSTestSupport
import Testing
import WazuhAPISource
import WazuhSource

@testable import GatewayCommands

/// `simulate --api-port`: the built binary serves the simulated fleet's REST API over HTTPS with a
/// generated certificate whose CA it writes beside the database.
struct SimulateAPITests {
    @Test func theBinaryServesTheFleetsAPIWithItsCABesideTheDatabase() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/global.db"
        let passwordFile = try directory.write("api-password", "Simulated-Passw0rd\n")
        let port = try NATSServerProcess.freePort()
        let process = try RunningExecutable([
            "simulate", "--db", path, "--agents", "30", "--no-socket", "--api-port", "\(port)", "--api-user", "soc",
            "--api-password-file", passwordFile, "--commit-idle", "100ms", "--commit-max", "500ms",
            "--duration", "120s",
        ])

        let caPath = directory.path + "/api-ca.pem"
        try await eventually("the API's CA beside the database", timeout: .seconds(60)) {
            FileManager.default.fileExists(atPath: caPath) && process.isRunning
        }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let client = try WazuhAPIClient(
            configuration: .init(
                url: "https://localhost:\(port)", credentials: .init(user: "soc", password: "Simulated-Passw0rd"),
                caFile: caPath),
            logger: logger)
        let wrong = try WazuhAPIClient(
            configuration: .init(
                url: "https://localhost:\(port)", credentials: .init(user: "soc", password: "wazuh-wui"),
                caFile: caPath),
            logger: logger)
        do {
            var read: WazuhAPIClient.FullRead?
            try await eventually("the fleet through the API", timeout: .seconds(60), poll: .milliseconds(200)) {
                read = try? await client.readAllAgents()
                return read != nil
            }
            let fromFile = try GlobalDatabaseReader(path: path).read().snapshot
            #expect(read?.records.count == 30)
            #expect(Set(read?.records.map(\.id) ?? []) == Set(fromFile.agentIDs))
            await #expect(throws: WazuhAPIError.self) { try await wrong.authenticate() }
        } catch {
            await client.shutdown()
            await wrong.shutdown()
            throw error
        }
        await client.shutdown()
        await wrong.shutdown()

        let status = try await process.interrupt(within: .seconds(30))
        let log = process.output
        #expect(status == 0, "output: \(log)")
        #expect(log.contains("serving the Wazuh REST API"))
        #expect(log.contains("simulated \(path): 30 agents"))
        #expect(log.contains("API requests (0 answered 429)"))
        #expect(!log.contains("Simulated-Passw0rd"))
    }

    @Test func theAPIPasswordComesFromTheFileTheEnvironmentOrTheDefault() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("password", "from-file\nignored\n")
        #expect(try SimulateRun.apiPassword(file: file, environment: [:]) == "from-file")
        #expect(
            try SimulateRun.apiPassword(file: nil, environment: [SimulateRun.apiPasswordVariable: "from-env"])
                == "from-env")
        #expect(try SimulateRun.apiPassword(file: nil, environment: [:]) == "wazuh-wui")
        #expect(throws: OperatorCommandError.self) {
            try SimulateRun.apiPassword(file: directory.path + "/missing", environment: [:])
        }
    }
}
