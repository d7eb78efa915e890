import Foundation
import NATSTestSupport
import Testing
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// Several managers watched by one in-process gateway: real simulators (each its own global.db),
/// real SQLite outbox, real nats-server. Two managers share the same simulated fleet (same seed, same
/// clock), so agent 001 of both makes the same transition: only the manager-scoped ids keep both.
struct MultiManagerDaemonTests {
    /// How a manager is broken in the isolation tests.
    enum Breakage: String, CaseIterable, Sendable {
        case missingDatabase
        case garbageDatabase
    }

    /// `count` managers `mgr-1`…`mgr-N` over one harness, each with its own global.db path.
    static func harness(managers count: Int) throws -> DaemonHarness {
        try DaemonHarness { configuration in
            let directory = (configuration.outbox.path as NSString).deletingLastPathComponent
            configuration.managers = (1...count).map { index in
                var manager = GatewayConfiguration.Wazuh(managerNode: "mgr-\(index)")
                manager.explicitDBPath = directory + "/../mgr-\(index)/global.db"
                manager.pollInterval = .milliseconds(200)
                manager.source = .file
                return manager
            }
            configuration.wazuh = configuration.managers[0]
        }
    }

    static func simulator(_ harness: DaemonHarness, manager index: Int, agents: Int = 20) throws -> WazuhSimulator {
        let path = try #require(harness.configuration.managers[index].explicitDBPath)
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        return try WazuhSimulator(
            configuration: .init(
                databasePath: path, agentCount: agents, commitIdle: .milliseconds(50),
                commitMaxAge: .milliseconds(200), replaceExisting: true))
    }

    /// Waits until every named manager read its source once (its baseline is journaled).
    static func waitForBaselines(_ daemon: RunningDaemon, managers: [String]) async throws {
        try await eventually("every manager read once", timeout: .seconds(20)) {
            let body = try await daemon.get("/readyz").body
            return managers.allSatisfy { !body.contains("source[\($0)]: no successful read yet") }
        }
    }

    /// The status events of the stream, by manager.
    static func statusEvents(_ stored: [StoredEvent]) -> [String: [StoredEvent]] {
        Dictionary(grouping: stored.filter { $0.subject.hasSuffix(".status") && $0.event != nil }) {
            $0.event?.managerNode ?? ""
        }
    }

    @Test(arguments: [2, 3])
    func everyManagerPublishesItsTransitionsWithScopedIDs(managers count: Int) async throws {
        let harness = try Self.harness(managers: count)
        try await harness.server.start()
        let simulators = try (0..<count).map { try Self.simulator(harness, manager: $0) }
        let names = (1...count).map { "mgr-\($0)" }
        let daemon = harness.startDaemon()
        do {
            try await Self.waitForBaselines(daemon, managers: names)
            // The same agent makes the same transition at the same simulated time on every manager.
            let agent = try #require(simulators[0].agents(withStatus: "active").first)
            for simulator in simulators {
                simulator.now = 1_800_000_000
                try simulator.apply(.stop(agentID: agent))
                try simulator.commit()
            }
            var stored: [StoredEvent] = []
            try await eventually("every manager's event in the stream", timeout: .seconds(20)) {
                stored = try await harness.storedMessages()
                // The `.disconnected` secondaries are published after the `.status` events: wait for them too.
                let secondaries = stored.filter {
                    $0.subject == "wazuh.agent.\(Subjects.agentToken(agent)).disconnected"
                }
                return Self.statusEvents(stored).count == count && secondaries.count == count
            }
            // The same transition of the same agent: one single-manager id, scoped apart per manager.
            var unscoped: Set<String> = []
            for name in names {
                let events = try #require(Self.statusEvents(stored)[name])
                #expect(events.count == 1)
                let event = try #require(events.first?.event)
                #expect(events.first?.subject == "wazuh.agent.\(Subjects.agentToken(agent)).status")
                #expect(event.eventID.hasPrefix("evt_\(Subjects.agentToken(agent))_1800000000_"))
                #expect(event.eventID.hasSuffix("@" + name))
                #expect(event.managerNode == name)
                unscoped.insert(String(event.eventID.dropLast(name.count + 1)))
                #expect(events.first?.messageID == event.eventID)
                #expect(
                    stored.contains {
                        $0.subject == "wazuh.agent.\(Subjects.agentToken(agent)).disconnected"
                            && $0.messageID == event.eventID + ":disconnected"
                    })
            }
            // The simulators' fleets register agents relative to their creation time, so two created on
            // either side of a second boundary give the agent different `date_add`s, which are part of the
            // id: one unscoped id per distinct registration time (one, almost always).
            let registrations = try Set(
                (0..<count).map { index in
                    let path = try #require(harness.configuration.managers[index].explicitDBPath)
                    return try #require(GlobalDatabaseReader(path: path).read().snapshot.record(id: agent)).dateAdd
                })
            #expect(unscoped.count == registrations.count)
            let ids = stored.compactMap(\.messageID)
            #expect(Set(ids).count == ids.count)
            // One heartbeat subject per manager, each with its own fleet.
            try await eventually("a heartbeat from every manager", timeout: .seconds(20)) {
                let beats = try await harness.storedMessages().compactMap { message -> String? in
                    if case .heartbeat(let beat) = message.opened, beat.fleet.totalAgents == 20,
                        message.subject == "wazuh.manager.\(beat.managerNode).heartbeat"
                    {
                        return beat.managerNode
                    }
                    return nil
                }
                return Set(beats) == Set(names)
            }
            try await eventually("ready with every manager's source", timeout: .seconds(20)) {
                try await daemon.get("/readyz").status == 200
            }
            let metrics = try await daemon.get("/metrics").body
            for name in names {
                #expect(metrics.contains("source_read_duration_seconds_count{manager=\"\(name)\"}"))
            }
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }
}
