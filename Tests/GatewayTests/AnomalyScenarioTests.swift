import Foundation
import Logging
import Outbox
import Testing
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// The anomaly rules against the simulator's scenarios, on the simulator's clock (no wall time): each
/// scenario raises its anomaly exactly once, and ordinary activity raises none.
@Suite(.serialized)
struct AnomalyScenarioTests {
    /// A simulated manager whose global.db is read after every step, the way the detection cycle does.
    final class Drive {
        let directory: String
        let simulator: WazuhSimulator
        let reader: GlobalDatabaseReader
        var snapshot: AgentSnapshot
        var detector: AnomalyDetector
        var findings: [AnomalyDetector.Finding] = []
        /// Transitions seen, by kind of change.
        var changesSeen = 0
        var handStopsSeen = 0

        init(agents: Int, nodes: [String] = ["node01"], thresholds: AnomalyThresholds = AnomalyThresholds()) throws {
            directory = NSTemporaryDirectory() + "/anomaly-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            simulator = try WazuhSimulator(
                configuration: .init(
                    databasePath: directory + "/global.db", agentCount: agents, seed: 7, clusterNodes: nodes,
                    initiallyActive: 0.9),
                now: 1_716_897_000)
            reader = GlobalDatabaseReader(configuration: .init(path: directory + "/global.db", incrementalReads: false))
            snapshot = try reader.read().snapshot
            detector = AnomalyDetector(thresholds: thresholds)
            detector.seed(with: snapshot, nowSeconds: simulator.now)
        }

        deinit {
            try? simulator.close()
            try? FileManager.default.removeItem(atPath: directory)
        }

        /// `steps` simulator steps of `seconds` simulated seconds each, one detection cycle after each.
        func run(_ scenario: SimulatorScenario, steps: Int, seconds: Int64 = 5, startFresh: Bool = true) throws {
            for index in 0..<steps {
                try simulator.step(scenario, starting: startFresh && index == 0)
                try simulator.commit()
                cycle()
                simulator.now += seconds
            }
        }

        func cycle() {
            guard let next = try? reader.read().snapshot else { return }
            let changes = ChangeDetector.changes(from: snapshot, to: next)
            changesSeen += changes.count
            handStopsSeen += changes.filter { $0.reason == .agentStopped && $0.currentStatus == .disconnected }.count
            snapshot = next
            findings += detector.observe(changes, snapshot: next, managerNode: "mgr", nowSeconds: simulator.now)
        }

        func kinds() -> [AnomalyEvent.Kind] { findings.map(\.kind) }
    }

    @Test func aLongRunOfTheDefaultScenarioRaisesNothing() throws {
        let drive = try Drive(agents: 120, nodes: ["node01", "node02"])
        // Six simulated hours of steady activity, including its random hand stops and timeouts.
        try drive.run(.steady, steps: 1440, seconds: 15)
        #expect(drive.changesSeen > 100 && drive.handStopsSeen > 10)
        #expect(drive.findings.isEmpty, "steady activity raised \(drive.findings.map(\.explanation))")
    }

    @Test func aLongRunOfTheKeepaliveAndRestartScenariosRaisesNothing() throws {
        let drive = try Drive(agents: 100)
        try drive.run(.keepalive, steps: 240, seconds: 5)
        try drive.run(.restartStorm, steps: 120, seconds: 5)
        #expect(drive.findings.isEmpty, "raised \(drive.findings.map(\.explanation))")
    }

    @Test func massDisconnectionIsRaisedOncePerEpisode() throws {
        let drive = try Drive(agents: 60)
        try drive.run(.massDisconnect, steps: 150, seconds: 5)
        #expect(drive.kinds() == [.massDisconnection])
        let finding = try #require(drive.findings.first)
        #expect(finding.nodeName == "node01" && finding.fleetSize == 60)
        #expect(finding.observed >= finding.threshold && finding.threshold == 30)
        #expect(finding.eventID.hasPrefix("anom_mass_disconnection_"))
    }

    @Test func aHandStopOutsideTheMaintenanceWindowIsRaisedOnce() throws {
        var thresholds = AnomalyThresholds()
        // 1_716_897_000 is 11:50 UTC: the window 02:00-03:00 does not cover it.
        thresholds.maintenanceWindows = [DailyWindow(parsing: "02:00-03:00")!]
        let drive = try Drive(agents: 30, thresholds: thresholds)
        let stopped = drive.simulator.agents(withStatus: "active").first
        // Not before the grace period (600 s) is over: a restart by hand comes back within it.
        try drive.run(.handStop, steps: 100)
        #expect(drive.findings.isEmpty)
        try drive.run(.handStop, steps: 100, startFresh: false)
        #expect(drive.kinds() == [.agentStopped])
        #expect(drive.findings.first?.agentID == stopped)
        #expect(drive.findings.first?.explanation.contains("02:00-03:00") == true)
    }

    @Test func withNoMaintenanceWindowEveryHandStopThatStaysDownIsRaisedOnce() throws {
        let drive = try Drive(agents: 30)
        let stopped = drive.simulator.agents(withStatus: "active").first
        try drive.run(.handStop, steps: 400)
        #expect(drive.kinds() == [.agentStopped])
        #expect(drive.findings.first?.agentID == stopped)
        #expect(drive.findings.first?.explanation.contains("no maintenance window") == true)
        // A restart of the same agent is back within the grace period: nothing more.
        try drive.simulator.apply(.connect(agentID: try #require(stopped)))
        try drive.run(.keepalive, steps: 20, startFresh: false)
        #expect(drive.findings.count == 1)
    }

    @Test func aPlannedShutdownIsOneMassFindingNotOnePerAgent() throws {
        let drive = try Drive(agents: 40)
        try drive.run(.plannedShutdown, steps: 300)
        #expect(drive.handStopsSeen >= 20)
        #expect(drive.kinds() == [.massDisconnection], "raised \(drive.findings.map(\.explanation))")
    }

    @Test func aHandStopInsideTheMaintenanceWindowIsNotRaised() throws {
        var thresholds = AnomalyThresholds()
        thresholds.maintenanceWindows = [DailyWindow(parsing: "11:00-12:30")!]
        let drive = try Drive(agents: 30, thresholds: thresholds)
        // Well past the grace period: the stop stays expected, however long the agent stays down.
        try drive.run(.handStop, steps: 200)
        #expect(drive.handStopsSeen == 1)
        #expect(drive.findings.isEmpty)
        #expect(thresholds.inMaintenance(unixSeconds: 1_716_897_000))
        #expect(DailyWindow(parsing: "23:00-01:00")?.contains(minuteOfDay: 30) == true)
        #expect(DailyWindow(parsing: "25:00-01:00") == nil)
    }

    @Test func flappingIsRaisedOncePerFlappingAgent() throws {
        let drive = try Drive(agents: 20)
        try drive.run(.flapping, steps: 120, seconds: 5)
        let flapping = drive.findings.filter { $0.kind == .flapping }
        #expect(flapping.count == drive.findings.count)
        // The scenario flaps the first five agents; each is reported once, however long it goes on.
        #expect(Set(flapping.compactMap(\.agentID)) == Set(drive.simulator.agentIDs.prefix(5)))
        #expect(flapping.count == 5)
        #expect(flapping.allSatisfy { $0.observed == 11 && $0.threshold == 10 })
    }

    @Test func reRegistrationUnderAnExistingIdIsRaisedOnce() throws {
        let drive = try Drive(agents: 20)
        try drive.run(.reregister, steps: 100)
        #expect(drive.kinds() == [.reregistration])
        #expect(drive.findings.first?.agentID == drive.simulator.agentIDs.first)
    }

    @Test func aSilentFleetIsRaisedOnceAndReArmsWhenKeepalivesResume() throws {
        let drive = try Drive(agents: 20)
        try drive.run(.keepalive, steps: 20)
        #expect(drive.findings.isEmpty)
        // No update arrives while nothing changes: the silence check runs on the clock alone.
        for _ in 0..<400 {
            drive.simulator.now += 5
            drive.findings += drive.detector.tick(nowSeconds: drive.simulator.now)
        }
        #expect(drive.kinds() == [.fleetSilent])
        try drive.run(.keepalive, steps: 20, startFresh: false)
        #expect(drive.kinds() == [.fleetSilent])
        for _ in 0..<400 {
            drive.simulator.now += 5
            drive.findings += drive.detector.tick(nowSeconds: drive.simulator.now)
        }
        #expect(drive.kinds() == [.fleetSilent, .fleetSilent])
        #expect(drive.findings[0].eventID != drive.findings[1].eventID)
    }
}
