import Foundation
import Testing
import WazuhSimulator
import WazuhSource

/// Incremental socket reads (only the rows whose status may have moved) against full sweeps: the
/// same agents, the same transitions, at a fraction of wazuh-db's work.
@Suite struct WazuhDBIncrementalReadTests {
    /// A reader sweeping every `sweepEvery` and counting at every read unless `censusEvery` says otherwise.
    static func reader(_ path: String, sweepEvery: Duration, censusEvery: Duration = .zero) -> WazuhDBSocketReader {
        WazuhDBSocketReader(
            client: WazuhDBClient(path: path, timeout: .seconds(5)), fullSweepInterval: sweepEvery,
            censusInterval: censusEvery)
    }

    /// A simulated manager serving its socket, and a reader of it sweeping every `sweepEvery`.
    struct Served {
        let directory: TemporaryDirectory
        let simulator: WazuhSimulator
        let server: WazuhDBSocketServer
        let reader: WazuhDBSocketReader

        init(
            agents: Int, initiallyActive: Double = 0.9, schema: SimulatedSchema = .wazuh4(minor: 14),
            sweepEvery: Duration = .seconds(3600), censusEvery: Duration = .zero
        ) throws {
            directory = try TemporaryDirectory()
            simulator = try WazuhSimulator.fixture(
                directory.file("global.db"), schema: schema, agents: agents, initiallyActive: initiallyActive)
            server = try simulator.serveWazuhDB(at: directory.file("wdb"))
            reader = WazuhDBIncrementalReadTests.reader(
                directory.file("wdb"), sweepEvery: sweepEvery, censusEvery: censusEvery)
        }

        func path(_ name: String) -> String { directory.file(name) }
    }

    /// One step of fleet life, applied uncommitted, then checked: the incremental reader's snapshot
    /// equals a full sweep's, and so do the transitions since the previous step.
    struct Step {
        var name: String
        var actions: [SimulatorAction]
        /// Whether the incremental reader may stay incremental (a removal forces a sweep).
        var staysIncremental: Bool
    }

    static let steps: [Step] = [
        Step(name: "keepalives", actions: [.keepalive(agentID: 2), .keepalive(agentID: 3)], staysIncremental: true),
        Step(name: "a graceful stop", actions: [.stop(agentID: 4)], staysIncremental: true),
        Step(name: "a keepalive timeout", actions: [.keepaliveTimeout(agentID: 5)], staysIncremental: true),
        Step(name: "a start-up (pending)", actions: [.connect(agentID: 4)], staysIncremental: true),
        Step(name: "pending to active", actions: [.activate(agentID: 4)], staysIncremental: true),
        Step(name: "a registration", actions: [.register], staysIncremental: true),
        Step(name: "a re-registration under the same id", actions: [.reRegister(agentID: 6)], staysIncremental: true),
        Step(name: "a removal", actions: [.remove(agentID: 7)], staysIncremental: false),
        Step(name: "a removal and a registration", actions: [.remove(agentID: 8), .register], staysIncremental: false),
        Step(name: "a manager restart", actions: [.restartStorm], staysIncremental: true),
        Step(name: "everyone reconnecting", actions: (1...60).map { .connect(agentID: $0) }, staysIncremental: true),
    ]

    @Test func incrementalReadsDetectEveryKindOfChangeLikeAFullSweep() throws {
        let served = try Served(agents: 300, initiallyActive: 0.7)
        defer { served.server.stop() }
        let (simulator, incremental) = (served.simulator, served.reader)
        let sweeping = Self.reader(served.path("wdb"), sweepEvery: .zero)
        var previousIncremental = try incremental.read().snapshot
        var previousSweep = try sweeping.read().snapshot
        for (number, step) in Self.steps.enumerated() {
            simulator.now = baseTime + 100 + Int64(number) * 10
            for action in step.actions { try simulator.apply(action) }
            let read = try incremental.read()
            let sweep = try sweeping.read()
            #expect(sweep.sweep)
            #expect(read.sweep == !step.staysIncremental, "\(step.name): sweep \(read.sweep)")
            #expect(
                Self.statusView(read.snapshot) == Self.statusView(sweep.snapshot), "\(step.name): snapshots differ")
            let seen = ChangeDetector.changes(from: previousIncremental, to: read.snapshot)
            #expect(seen == ChangeDetector.changes(from: previousSweep, to: sweep.snapshot), "\(step.name)")
            #expect(!seen.isEmpty || step.name == "keepalives", "\(step.name): no transition seen")
            previousIncremental = read.snapshot
            previousSweep = sweep.snapshot
        }
        #expect(simulator.hasOpenTransaction)
        // A sweep brings the keepalives of agents that made no transition; nothing else differs.
        let swept = try incremental.read(forceSweep: true)
        #expect(try swept.snapshot.records == sweeping.read().snapshot.records)
        #expect(ChangeDetector.changes(from: previousIncremental, to: swept.snapshot).isEmpty)
    }

    /// Every field of every agent but `last_keepalive`, which a keepalive alone moves and only a sweep reads.
    static func statusView(_ snapshot: AgentSnapshot) -> [AgentRecord] {
        snapshot.records.map { record in
            var record = record
            record.lastKeepalive = nil
            return record
        }
    }

    @Test func anIncrementalReadAsksForFarLessThanASweep() throws {
        let served = try Served(agents: 2000)
        defer { served.server.stop() }
        let (simulator, reader) = (served.simulator, served.reader)
        let first = try reader.read()
        simulator.now = baseTime + 500
        try simulator.apply(.stop(agentID: 10))
        let second = try reader.read()
        #expect(first.sweep && !second.sweep)
        #expect(second.snapshot.record(id: 10)?.status == .disconnected)
        // The census and one short page of changed rows, against every agent's row.
        #expect(second.queries == 2)
        #expect(second.bytesReceived * 20 < first.bytesReceived, "\(second.bytesReceived) vs \(first.bytesReceived)")
    }

    @Test func betweenCensusesAReadIsOneScanAndStillSeesEveryStampedTransition() throws {
        let served = try Served(agents: 2000, initiallyActive: 0.8, censusEvery: .seconds(3600))
        defer { served.server.stop() }
        let (simulator, reader) = (served.simulator, served.reader)
        let first = try reader.read()
        #expect(first.sweep && first.census)
        let active = simulator.agentIDs.filter { simulator.status(of: $0) == "active" }
        let (restarted, timedOut, coded) = (active[0], active[1], active[2])
        // A stop, a keepalive timeout, a start-up, a registration: each stamps a time or is pending.
        simulator.now = baseTime + 600
        try simulator.apply(.stop(agentID: restarted))
        try simulator.apply(.keepaliveTimeout(agentID: timedOut))
        try simulator.apply(.connect(agentID: restarted))
        try simulator.apply(.register)
        let second = try reader.read()
        #expect(!second.sweep && !second.census)
        #expect(second.queries == 1, "one page of changed rows, no census")
        #expect(second.snapshot.record(id: restarted)?.status == .pending)
        #expect(second.snapshot.record(id: timedOut)?.status == .disconnected)
        #expect(second.snapshot.count == first.snapshot.count + 1)
        // pending → active, read because the previous read saw the agent pending.
        try simulator.apply(.activate(agentID: restarted))
        let third = try reader.read()
        #expect(third.queries == 1 && third.snapshot.record(id: restarted)?.status == .active)
        // What moves no time waits for the census: a status_code alone, then a removal.
        try simulator.apply(.setStatusCode(agentID: coded, code: 2))
        #expect(try reader.read().snapshot.record(id: coded)?.statusCode != 2)
        let counted = try reader.read(forceCensus: true)
        #expect(counted.census && counted.sweep)
        #expect(counted.snapshot.record(id: coded)?.statusCode == 2)
        let sweeping = Self.reader(served.path("wdb"), sweepEvery: .zero)
        #expect(try counted.snapshot.records == sweeping.read().snapshot.records)
    }

    @Test func aStatusCodeChangingAloneIsSeenAtTheNextRead() throws {
        let served = try Served(agents: 50, initiallyActive: 1)
        defer { served.server.stop() }
        let (simulator, reader) = (served.simulator, served.reader)
        _ = try reader.read()
        // A version error sets status_code alone: no time and no count moves, the census's
        // id × code sum does, so this read sweeps instead of waiting for the periodic sweep.
        try simulator.apply(.setStatusCode(agentID: 9, code: 2))
        let read = try reader.read()
        #expect(read.sweep)
        #expect(read.snapshot.record(id: 9)?.statusCode == 2)
        #expect(simulator.hasOpenTransaction)
        // Once seen, the next read is incremental again.
        #expect(try !reader.read().sweep)
    }

    @Test func aClockSteppedBackIsCaughtByTheCensusIds() throws {
        let served = try Served(agents: 60, initiallyActive: 1)
        defer { served.server.stop() }
        let (simulator, reader) = (served.simulator, served.reader)
        simulator.now = baseTime + 1000
        try simulator.apply(.stop(agentID: 20))
        let before = try reader.read().snapshot
        #expect(before.record(id: 20)?.status == .disconnected)
        // The clock steps back an hour: agent 11 stops and agent 20 comes back, both stamped before
        // the read's `since`, and the counts per status balance. Only the id sums differ.
        simulator.now = baseTime - 3600
        try simulator.apply(.stop(agentID: 11))
        try simulator.apply(.activate(agentID: 20))
        let read = try reader.read()
        #expect(read.sweep)
        #expect(read.snapshot.record(id: 11)?.status == .disconnected)
        #expect(read.snapshot.record(id: 20)?.status == .active)
        let seen = ChangeDetector.changes(from: before, to: read.snapshot).map { ($0.agentID, $0.currentStatus) }
        #expect(seen.map(\.0) == [11, 20])
        #expect(seen.map(\.1) == [.disconnected, .active])
    }

    @Test func aSchemaWithoutStatusCodeStaysIncremental() throws {
        let served = try Served(agents: 40, initiallyActive: 1, schema: .wazuh4(minor: 5))
        defer { served.server.stop() }
        let (simulator, reader) = (served.simulator, served.reader)
        #expect(try reader.read().sweep)
        simulator.now = baseTime + 200
        try simulator.apply(.stop(agentID: 6))
        let read = try reader.read()
        #expect(!read.sweep)
        #expect(read.snapshot.record(id: 6)?.status == .disconnected)
    }

    @Test func sweepsAreDueAfterTheInterval() throws {
        let served = try Served(agents: 20, sweepEvery: .milliseconds(300))
        defer { served.server.stop() }
        let reader = served.reader
        #expect(try reader.read().sweep)
        let start = ContinuousClock.now
        var kinds: [Bool] = []
        // Reads until one sweeps again; every read before the interval ran out is incremental.
        while ContinuousClock.now - start < .seconds(60) {
            let read = try reader.read()
            kinds.append(read.sweep)
            if read.sweep { break }
        }
        #expect(kinds.last == true)
        #expect(kinds.dropLast().allSatisfy { !$0 })
    }

    @Test func aSchemaWithoutDisconnectionTimeAlwaysSweeps() throws {
        let served = try Served(agents: 20, schema: .wazuh4(minor: 2))
        defer { served.server.stop() }
        let (simulator, reader) = (served.simulator, served.reader)
        _ = try reader.read()
        try simulator.apply(.stop(agentID: 3))
        let read = try reader.read()
        #expect(read.sweep)
        #expect(read.snapshot.record(id: 3)?.status == .disconnected)
    }

    @Test func theOriginOfASocketSnapshotSurvivesTheJournal() throws {
        var snapshot = AgentSnapshot(records: [
            AgentRecord(
                id: 1, name: "a", ip: nil, status: .active, lastKeepalive: 5, dateAdd: 1, disconnectionTime: 0,
                statusCode: 0, nodeName: nil)
        ])
        let plain = try AgentSnapshot(exported: snapshot.export())
        #expect(plain.origin == nil)
        let origin = SnapshotOrigin(
            source: .wazuhDB, fileChangeCounter: 41, readAt: Date(timeIntervalSince1970: 1_767_225_600.25))
        snapshot.origin = origin
        let restored = try AgentSnapshot(exported: snapshot.export())
        #expect(restored.origin == origin)
        #expect(restored == plain, "the origin is not part of equality")
    }
}
