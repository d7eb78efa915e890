import Foundation
import NATSTestSupport
import Testing
import WazuhSimulator
import WireContract

@testable import Gateway

/// One manager's failure never stops another's events, and each manager resumes from its own
/// snapshot after a restart.
struct MultiManagerIsolationTests {
    typealias Fixture = MultiManagerDaemonTests

    @Test(arguments: Fixture.Breakage.allCases)
    func aBrokenManagerLeavesTheOthersDeliveringAndIsNamedInReadyz(_ breakage: Fixture.Breakage) async throws {
        let harness = try Fixture.harness(managers: 3)
        try await harness.server.start()
        let healthy = try [0, 2].map { try Fixture.simulator(harness, manager: $0) }
        let brokenPath = try #require(harness.configuration.managers[1].explicitDBPath)
        try FileManager.default.createDirectory(
            atPath: (brokenPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        if breakage == .garbageDatabase {
            try Data(repeating: 0x5A, count: 64 * 1024).write(to: URL(fileURLWithPath: brokenPath))
        }
        let daemon = harness.startDaemon()
        do {
            try await Fixture.waitForBaselines(daemon, managers: ["mgr-1", "mgr-3"])
            for simulator in healthy {
                let agent = try #require(simulator.agents(withStatus: "active").first)
                try simulator.apply(.stop(agentID: agent))
                try simulator.commit()
            }
            try await eventually("the healthy managers' events in the stream", timeout: .seconds(20)) {
                let events = Fixture.statusEvents(try await harness.storedMessages())
                return events["mgr-1"]?.count == 1 && events["mgr-3"]?.count == 1
            }
            let reply = try await daemon.get("/readyz")
            #expect(reply.status == 503)
            #expect(reply.body.contains("source[mgr-2]: no successful read yet: "))
            #expect(!reply.body.contains("source[mgr-1]") && !reply.body.contains("source[mgr-3]"))

            // Repaired: the manager baselines and its changes flow too, the others untouched.
            let repaired = try Fixture.simulator(harness, manager: 1)
            try await Fixture.waitForBaselines(daemon, managers: ["mgr-2"])
            let agent = try #require(repaired.agents(withStatus: "active").first)
            try repaired.apply(.stop(agentID: agent))
            try repaired.commit()
            // The simulator creates its file in two commits (schema, then agents): a baseline read between
            // them sees no agents and publishes them as `registered` afterwards. Wait for the stop itself.
            try await eventually("the repaired manager's event", timeout: .seconds(20)) {
                let events = Fixture.statusEvents(try await harness.storedMessages())["mgr-2"] ?? []
                return events.contains {
                    $0.event?.agentID == Subjects.agentToken(agent) && $0.event?.currentStatus == "Disconnected"
                }
            }
            let events = Fixture.statusEvents(try await harness.storedMessages())
            #expect(events["mgr-1"]?.count == 1 && events["mgr-3"]?.count == 1)
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }

    @Test func aRestartResumesEveryManagerFromItsOwnSnapshot() async throws {
        let harness = try Fixture.harness(managers: 2)
        try await harness.server.start()
        // Different fleets: a snapshot shared between the managers would show as spurious changes.
        let first = try Fixture.simulator(harness, manager: 0, agents: 20)
        let second = try Fixture.simulator(harness, manager: 1, agents: 30)
        var stopped: [Int] = []
        var daemon = harness.startDaemon()
        do {
            try await Fixture.waitForBaselines(daemon, managers: ["mgr-1", "mgr-2"])
            for simulator in [first, second] {
                let agent = try #require(simulator.agents(withStatus: "active").first)
                stopped.append(agent)
                try simulator.apply(.stop(agentID: agent))
                try simulator.commit()
            }
            try await eventually("the first round in the stream", timeout: .seconds(20)) {
                let events = Fixture.statusEvents(try await harness.storedMessages())
                return events["mgr-1"]?.count == 1 && events["mgr-2"]?.count == 1
            }
            try await daemon.shutdown()

            // While the gateway is down, each manager changes.
            for (index, simulator) in [first, second].enumerated() {
                simulator.now += 5
                try simulator.apply(.connect(agentID: stopped[index]))
                try simulator.commit()
            }
            daemon = harness.startDaemon()
            try await eventually("the second round in the stream", timeout: .seconds(20)) {
                let events = Fixture.statusEvents(try await harness.storedMessages())
                return events["mgr-1"]?.count == 2 && events["mgr-2"]?.count == 2
            }
            // Nothing more: no re-baseline, no change diffed against the other manager's snapshot.
            try await eventually("both managers read again after the restart", timeout: .seconds(20)) {
                try await daemon.get("/readyz").status == 200
            }
            let stored = try await harness.storedMessages()
            let events = Fixture.statusEvents(stored)
            for (index, name) in ["mgr-1", "mgr-2"].enumerated() {
                let agents = try #require(events[name]).compactMap(\.event?.agentID)
                #expect(agents == [Subjects.agentToken(stopped[index]), Subjects.agentToken(stopped[index])])
            }
            let ids = stored.compactMap(\.messageID)
            #expect(Set(ids).count == ids.count)
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }
}
