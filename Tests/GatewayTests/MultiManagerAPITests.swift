import Foundation
import NATSTestSupport
import Testing
import WazuhSimulator
import WireContract

@testable import Gateway

/// Managers read through the Wazuh REST API (the simulator's HTTPS API) beside managers read from
/// global.db, in one in-process gateway delivering to a real nats-server.
struct MultiManagerAPITests {
    typealias Fixture = MultiManagerDaemonTests
    static let password = "Api-Passw0rd-for-tests"

    /// How an API manager is broken.
    enum APIBreakage: String, CaseIterable, Sendable {
        /// Nothing listens at its URL.
        case unreachable
        /// The API refuses the gateway's password.
        case badCredentials
        /// The API answers `GET /agents` with something that is not its JSON.
        case garbageReplies
    }

    /// A simulated manager with its REST API served on a free port, stopped by ``stop()``.
    final class APIManager {
        let directory: TemporaryDirectory
        let simulator: WazuhSimulator
        let server: SimulatedAPIServer

        init(agents: Int = 20) async throws {
            self.directory = try TemporaryDirectory(prefix: "api-manager")
            self.simulator = try WazuhSimulator(
                configuration: .init(
                    databasePath: self.directory.path + "/global.db", agentCount: agents,
                    commitIdle: .milliseconds(50), commitMaxAge: .milliseconds(200)))
            self.server = try self.simulator.makeAPIServer(
                configuration: .init(
                    user: "gateway", password: MultiManagerAPITests.password, requestsPerMinute: 100_000,
                    directory: self.directory.path))
            try await self.server.start()
        }

        /// The `managers:` entry reading this API.
        func entry(_ node: String, password: String = MultiManagerAPITests.password) -> GatewayConfiguration.Wazuh {
            var manager = GatewayConfiguration.Wazuh(managerNode: node)
            manager.source = .api
            manager.api.url = self.server.url
            manager.api.user = "gateway"
            manager.api.password = Secret(password)
            manager.api.caFile = self.server.caPath
            manager.api.pollInterval = .milliseconds(200)
            manager.api.requestsPerMinute = 100_000
            return manager
        }

        func stop() async {
            await self.server.stop()
            try? self.simulator.close()
        }
    }

    static func fileEntry(_ node: String, path: String) -> GatewayConfiguration.Wazuh {
        var manager = GatewayConfiguration.Wazuh(managerNode: node)
        manager.explicitDBPath = path
        manager.pollInterval = .milliseconds(200)
        manager.source = .file
        return manager
    }

    static func harness(_ managers: [GatewayConfiguration.Wazuh]) throws -> DaemonHarness {
        try DaemonHarness { configuration in
            configuration.managers = managers
            configuration.wazuh = managers[0]
        }
    }

    /// Stops one active agent of `simulator` and commits; returns the agent.
    static func stopOneAgent(_ simulator: WazuhSimulator) throws -> Int {
        let agent = try #require(simulator.agents(withStatus: "active").first)
        try simulator.apply(.stop(agentID: agent))
        try simulator.commit()
        return agent
    }

    @Test func oneFleetReadFromTheFileAndFromTheAPIYieldsTheSameEventIDs() async throws {
        let api = try await APIManager()
        let harness = try Self.harness([
            Self.fileEntry("by-file", path: api.simulator.configuration.databasePath), api.entry("by-api"),
        ])
        try await harness.server.start()
        let daemon = harness.startDaemon()
        do {
            try await Fixture.waitForBaselines(daemon, managers: ["by-file", "by-api"])
            api.simulator.now = 1_800_000_000
            let agent = try Self.stopOneAgent(api.simulator)
            var stored: [StoredEvent] = []
            try await eventually("the transition from both sources in the stream", timeout: .seconds(30)) {
                stored = try await harness.storedMessages()
                let events = Fixture.statusEvents(stored)
                return events["by-file"]?.count == 1 && events["by-api"]?.count == 1
            }
            let events = Fixture.statusEvents(stored)
            let byFile = try #require(events["by-file"]?.first?.event)
            let byAPI = try #require(events["by-api"]?.first?.event)
            #expect(byAPI.agentID == Subjects.agentToken(agent))
            #expect(byAPI.eventID.hasPrefix("evt_\(Subjects.agentToken(agent))_1800000000_"))
            #expect(byFile.eventID.dropLast("@by-file".count) == byAPI.eventID.dropLast("@by-api".count))
            #expect(byAPI.currentStatus == byFile.currentStatus && byAPI.previousStatus == byFile.previousStatus)
            #expect(byAPI.reason == byFile.reason)
            #expect(events["by-api"]?.first?.messageID == byAPI.eventID)
            try await eventually("ready with both sources", timeout: .seconds(20)) {
                try await daemon.get("/readyz").status == 200
            }
            let metrics = try await daemon.get("/metrics").body
            #expect(metrics.contains("source_read_duration_seconds_count{manager=\"by-api\"}"))
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            await api.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
        await api.stop()
    }

    @Test(arguments: APIBreakage.allCases, [2, 3])
    func aBrokenAPIManagerLeavesTheOthersDeliveringAndIsNamedInReadyz(
        _ breakage: APIBreakage, managers count: Int
    ) async throws {
        let broken = try await APIManager()
        let healthyAPI = try await APIManager()
        let fileDirectory = try TemporaryDirectory(prefix: "file-manager")
        let fileSimulator = try WazuhSimulator(
            configuration: .init(
                databasePath: fileDirectory.path + "/global.db", agentCount: 20, commitIdle: .milliseconds(50),
                commitMaxAge: .milliseconds(200)))
        var brokenEntry = broken.entry("broken", password: breakage == .badCredentials ? "wrong" : Self.password)
        switch breakage {
        case .unreachable:
            brokenEntry.api.url = "https://localhost:\(try NATSServerProcess.freePort())"
        case .badCredentials:
            break
        case .garbageReplies:
            broken.server.garbleReplies(true)
        }
        var entries = [Self.fileEntry("file", path: fileDirectory.path + "/global.db"), brokenEntry]
        if count == 3 { entries.append(healthyAPI.entry("api")) }
        let healthy = count == 3 ? ["file", "api"] : ["file"]
        let harness = try Self.harness(entries)
        try await harness.server.start()
        let daemon = harness.startDaemon()
        func cleanUp() async {
            await harness.server.stop()
            await broken.stop()
            await healthyAPI.stop()
            try? fileSimulator.close()
        }
        do {
            try await Fixture.waitForBaselines(daemon, managers: healthy)
            _ = try Self.stopOneAgent(fileSimulator)
            if count == 3 { _ = try Self.stopOneAgent(healthyAPI.simulator) }
            try await eventually("the healthy managers' events in the stream", timeout: .seconds(30)) {
                let events = Fixture.statusEvents(try await harness.storedMessages())
                return healthy.allSatisfy { events[$0]?.count == 1 }
            }
            let reply = try await daemon.get("/readyz")
            #expect(reply.status == 503)
            #expect(reply.body.contains("source[broken]: no successful read yet"), "\(reply.body)")
            #expect(!healthy.contains { reply.body.contains("source[\($0)]") })
            #expect(!reply.body.contains(Self.password) && !harness.logs.contains(Self.password))

            if breakage == .garbageReplies {
                // Repaired: its baseline, then its changes flow too, the others untouched.
                broken.server.garbleReplies(false)
                try await Fixture.waitForBaselines(daemon, managers: ["broken"])
                _ = try Self.stopOneAgent(broken.simulator)
                try await eventually("the repaired manager's event", timeout: .seconds(30)) {
                    Fixture.statusEvents(try await harness.storedMessages())["broken"]?.count == 1
                }
                let events = Fixture.statusEvents(try await harness.storedMessages())
                #expect(healthy.allSatisfy { events[$0]?.count == 1 })
            }
        } catch {
            _ = try? await daemon.shutdown()
            await cleanUp()
            throw error
        }
        try await daemon.shutdown()
        await cleanUp()
    }
}
