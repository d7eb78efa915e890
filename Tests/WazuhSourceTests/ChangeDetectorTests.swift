import Testing
import WazuhSimulator
import WazuhSource

struct ChangeDetectorTests {
    /// A simulator and a reader over the same file, to diff successive commits.
    final class Harness {
        let directory: TemporaryDirectory
        let simulator: WazuhSimulator
        let reader: GlobalDatabaseReader
        var snapshot: AgentSnapshot

        init(agents: Int = 10, schema: SimulatedSchema = .wazuh4(minor: 14), initiallyActive: Double = 1) throws {
            directory = try TemporaryDirectory()
            let path = directory.file("global.db")
            simulator = try WazuhSimulator.fixture(
                path, schema: schema, agents: agents, initiallyActive: initiallyActive)
            reader = GlobalDatabaseReader(path: path)
            snapshot = try reader.read().snapshot
        }

        /// Applies `actions` at `time`, commits, reads, and returns the changes since the last call.
        func changes(at time: Int64, _ actions: SimulatorAction...) throws -> [AgentChange] {
            simulator.now = time
            for action in actions { try simulator.apply(action) }
            try simulator.commit()
            let next = try reader.read().snapshot
            defer { snapshot = next }
            return ChangeDetector.changes(from: snapshot, to: next)
        }
    }

    @Test func firstStartHasNoChangesOnlyABaseline() throws {
        let harness = try Harness()
        #expect(ChangeDetector.changes(from: nil, to: harness.snapshot).isEmpty)
    }

    @Test func keepalivesAndStatusCodeOnlyUpdatesAreSilent() throws {
        let harness = try Harness()
        #expect(try harness.changes(at: baseTime + 10, .keepaliveAll).isEmpty)
        #expect(try harness.changes(at: baseTime + 20, .keepalive(agentID: 2), .keepalive(agentID: 3)).isEmpty)
        #expect(try harness.changes(at: baseTime + 30, .setStatusCode(agentID: 4, code: 2)).isEmpty)
    }

    @Test func gracefulStopAndKeepaliveTimeoutCarryReasonAndDisconnectionTime() throws {
        let harness = try Harness()
        let changes = try harness.changes(at: baseTime + 50, .stop(agentID: 1), .keepaliveTimeout(agentID: 2))
        #expect(changes.count == 2)
        let stopped = try #require(changes.first)
        #expect(stopped.kind == .statusChange)
        #expect(stopped.agentID == 1)
        #expect(stopped.previousStatus == .active)
        #expect(stopped.currentStatus == .disconnected)
        #expect(stopped.reason == .agentStopped)
        #expect(stopped.transitionTime == baseTime + 50)
        #expect(changes.last?.reason == .keepaliveTimeout)
    }

    @Test func reconnectionUsesTheKeepaliveAsTransitionTime() throws {
        let harness = try Harness()
        _ = try harness.changes(at: baseTime + 50, .stop(agentID: 1))
        let pending = try harness.changes(at: baseTime + 70, .connect(agentID: 1))
        #expect(pending.map(\.currentStatus) == [.pending])
        #expect(pending.first?.previousStatus == .disconnected)
        #expect(pending.first?.transitionTime == baseTime + 70)
        #expect(pending.first?.reason == nil)
        let active = try harness.changes(at: baseTime + 75, .activate(agentID: 1))
        #expect(active.map(\.currentStatus) == [.active])
        #expect(active.first?.transitionTime == baseTime + 75)
    }

    @Test func registrationRemovalAndReRegistration() throws {
        let harness = try Harness(agents: 5)
        let registered = try harness.changes(at: baseTime + 100, .registerNamed("new-host"))
        #expect(registered.count == 1)
        #expect(registered.first?.kind == .registered)
        #expect(registered.first?.agentID == 6)
        #expect(registered.first?.previousStatus == .unknown)
        #expect(registered.first?.currentStatus == .neverConnected)
        #expect(registered.first?.transitionTime == baseTime + 100)
        #expect(registered.first?.dateAdd == baseTime + 100)

        let removed = try harness.changes(at: baseTime + 200, .remove(agentID: 2))
        #expect(removed.count == 1)
        #expect(removed.first?.kind == .removed)
        #expect(removed.first?.agentID == 2)
        #expect(removed.first?.previousStatus == .active)
        #expect(removed.first?.currentStatus == .unknown)

        let old = try #require(harness.snapshot.record(id: 3))
        let again = try harness.changes(at: baseTime + 300, .reRegister(agentID: 3))
        #expect(again.map(\.kind) == [.removed, .registered])
        #expect(again.allSatisfy { $0.agentID == 3 })
        #expect(again.first?.dateAdd == old.dateAdd)
        #expect(again.last?.dateAdd == baseTime + 300)
        #expect(again.last?.currentStatus == .neverConnected)
    }

    @Test func removalOfADisconnectedAgentUsesItsDisconnectionTime() throws {
        let harness = try Harness()
        _ = try harness.changes(at: baseTime + 40, .stop(agentID: 5))
        let removed = try harness.changes(at: baseTime + 900, .remove(agentID: 5))
        #expect(removed.first?.transitionTime == baseTime + 40)
        #expect(removed.first?.previousStatus == .disconnected)
    }

    @Test func aSecondDisconnectionBetweenReadsIsNotLost() throws {
        let harness = try Harness()
        _ = try harness.changes(at: baseTime + 40, .stop(agentID: 1))
        let changes = try harness.changes(
            at: baseTime + 80, .connect(agentID: 1), .activate(agentID: 1), .keepaliveTimeout(agentID: 1))
        #expect(changes.count == 1)
        #expect(changes.first?.previousStatus == .disconnected)
        #expect(changes.first?.currentStatus == .disconnected)
        #expect(changes.first?.reason == .keepaliveTimeout)
        #expect(changes.first?.transitionTime == baseTime + 80)
    }

    @Test func restartStormDisconnectsEveryConnectedAgentThenBringsThemBack() throws {
        let harness = try Harness(agents: 200, initiallyActive: 0.8)
        let connected = Set(
            harness.simulator.agents(withStatus: "active") + harness.simulator.agents(withStatus: "pending"))
        let storm = try harness.changes(at: baseTime + 60, .restartStorm)
        #expect(Set(storm.map(\.agentID)) == connected)
        #expect(storm.allSatisfy { $0.currentStatus == .disconnected && $0.reason == .managerRestart })
        #expect(storm.allSatisfy { $0.transitionTime == baseTime + 60 })
        #expect(harness.snapshot.counts.disconnected >= connected.count)

        let back = connected.sorted()
        let pending = try harness.changes(at: baseTime + 65, back.map { SimulatorAction.connect(agentID: $0) })
        #expect(pending.count == connected.count)
        #expect(pending.allSatisfy { $0.previousStatus == .disconnected && $0.currentStatus == .pending })
        let active = try harness.changes(at: baseTime + 75, back.map { SimulatorAction.activate(agentID: $0) })
        #expect(active.count == connected.count)
        #expect(active.allSatisfy { $0.previousStatus == .pending && $0.currentStatus == .active })
        #expect(harness.snapshot.counts.active == connected.count)
    }

    /// A storm just before a second boundary: each agent's first keepalive still comes at least a
    /// second (of simulated time) after its return, so a commit in between always shows it pending.
    @Test func stormReturnsStayApartFromTheirFirstKeepaliveAcrossASecondBoundary() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: directory.file("global.db"), agentCount: 50, seed: 11, commitIdle: .seconds(3600),
                commitMaxAge: .seconds(3600), notifyInterval: .seconds(1), reconnectPeriod: .milliseconds(900),
                initiallyActive: 1),
            now: baseTime)
        simulator.nowMilliseconds = (baseTime + 100) * 1000 + 950
        try simulator.restartStormWithReturns()
        var firstPending: [Int: Int64] = [:]
        var firstActive: [Int: Int64] = [:]
        for _ in 0..<150 {
            simulator.nowMilliseconds += 20
            try simulator.step(.restartStorm)
            for id in simulator.agents(withStatus: "pending") where firstPending[id] == nil {
                firstPending[id] = simulator.nowMilliseconds
            }
            for id in simulator.agents(withStatus: "active") where firstActive[id] == nil {
                firstActive[id] = simulator.nowMilliseconds
            }
        }
        #expect(firstActive.count == 50)
        for (id, active) in firstActive {
            let pending = try #require(firstPending[id], "agent \(id) never pending")
            #expect(active - pending >= 1000, "agent \(id): pending at \(pending), active at \(active)")
        }
        // The returns spread over the reconnect period (sub-second here), not one whole second.
        #expect(Set(firstPending.values).count > 5)
    }

    @Test func degradesOnWazuh41WithoutDisconnectionTimeOrStatusCode() throws {
        let harness = try Harness(schema: .wazuh4(minor: 1))
        let last = try #require(harness.snapshot.record(id: 1)?.lastKeepalive)
        let changes = try harness.changes(at: baseTime + 50, .stop(agentID: 1))
        #expect(changes.first?.reason == nil)
        #expect(changes.first?.statusCode == nil)
        #expect(changes.first?.transitionTime == last, "without disconnection_time, the last keepalive")
    }

    @Test func diffsRecordsInAnyOrder() {
        let a = AgentRecord(
            id: 2, name: "b", ip: nil, status: .active, lastKeepalive: 10, dateAdd: 1, disconnectionTime: 0,
            statusCode: 0, nodeName: "n")
        var b = a
        b.id = 1
        let previous = AgentSnapshot(records: [a, b])
        var changed = a
        changed.status = .pending
        changed.lastKeepalive = 20
        let changes = ChangeDetector.changes(from: previous, to: [changed, b])
        #expect(changes.count == 1)
        #expect(changes.first?.agentID == 2)
        #expect(changes.first?.transitionTime == 20)
    }
}

extension ChangeDetectorTests.Harness {
    func changes(at time: Int64, _ actions: [SimulatorAction]) throws -> [AgentChange] {
        simulator.now = time
        for action in actions { try simulator.apply(action) }
        try simulator.commit()
        let next = try reader.read().snapshot
        defer { snapshot = next }
        return ChangeDetector.changes(from: snapshot, to: next)
    }
}
