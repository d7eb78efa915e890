import Foundation
import Logging
import Timekeeping
import WazuhAPISource
import WazuhSimulator

/// A simulated manager serving its REST API over HTTPS on a free port, and clients trusting its CA.
/// Everything is stopped and removed when `body` returns or throws.
enum SimulatedAPIFixture {
    static let logger = Logger(label: "api-test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let password = "s3cret-Passw0rd!"

    static func run<T>(
        agents: Int, server adjust: (inout SimulatedAPIServer.Configuration) -> Void = { _ in },
        body: (WazuhSimulator, SimulatedAPIServer) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory(prefix: "api")
        let simulator = try WazuhSimulator(
            configuration: .init(databasePath: directory.file("global.db"), agentCount: agents), now: 1_767_225_600)
        defer { try? simulator.close() }
        var configuration = SimulatedAPIServer.Configuration(
            user: "gateway", password: password, directory: directory.path)
        adjust(&configuration)
        let server = try simulator.makeAPIServer(configuration: configuration, logger: logger)
        try await server.start()
        do {
            let result = try await body(simulator, server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// A client of `server`, shut down after `body`.
    static func withClient<T>(
        _ server: SimulatedAPIServer, password: String = password, caFile: String? = nil,
        adjust: (inout WazuhAPIClient.Configuration) -> Void = { _ in },
        body: (WazuhAPIClient) async throws -> T
    ) async throws -> T {
        var configuration = WazuhAPIClient.Configuration(
            url: server.url, credentials: WazuhAPICredentials(user: "gateway", password: password),
            caFile: caFile ?? server.caPath, requestsPerMinute: 6000)
        adjust(&configuration)
        let client = try WazuhAPIClient(configuration: configuration, logger: logger)
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
