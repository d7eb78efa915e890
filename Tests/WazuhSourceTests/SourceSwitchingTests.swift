import Foundation
import Synchronization
import Testing
import WazuhSimulator
import WazuhSource

/// The monitor in `auto` mode switching between wazuh-db's socket and global.db, both ways, during
/// a storm: every transition reported exactly once, in order per agent, none reversed.
@Suite struct SourceSwitchingTests {
    /// What the consumer of the monitor saw.
    final class Observed: Sendable {
        private let state = Mutex<(changes: [AgentChange], snapshot: AgentSnapshot?, sources: [AgentStatusSource])>(
            ([], nil, []))

        func record(_ update: SourceUpdate, source: AgentStatusSource?) {
            state.withLock { state in
                state.changes += update.changes
                state.snapshot = update.snapshot
                if let source, state.sources.last != source { state.sources.append(source) }
            }
        }

        var changes: [AgentChange] { state.withLock { $0.changes } }
        var snapshot: AgentSnapshot? { state.withLock { $0.snapshot } }
        var sources: [AgentStatusSource] { state.withLock { $0.sources } }
    }

    /// A transition the test made, as the monitor must report it.
    struct Made: Hashable {
        var agentID: Int
        var from: ConnectionStatus
        var to: ConnectionStatus
        var time: Int64
    }

    static func monitor(_ directory: TemporaryDirectory, catchUpLimit: Duration = .seconds(120)) -> AgentStatusMonitor {
        AgentStatusMonitor(
            configuration: .init(
                databasePath: directory.file("global.db"), pollInterval: .milliseconds(200), source: .auto,
                socketPath: directory.file("wdb"), socketPollInterval: .milliseconds(20),
                socketTimeout: .seconds(5), fileCatchUpLimit: catchUpLimit))
    }

    static func consume(_ monitor: AgentStatusMonitor, into observed: Observed) -> Task<Void, Never> {
        Task {
            var confirmed: AgentSnapshot?
            while !Task.isCancelled {
                guard let update = try? await monitor.nextUpdate(after: confirmed) else { return }
                observed.record(update, source: monitor.activeSource)
                confirmed = update.snapshot
            }
        }
    }

    /// Waits until the monitor's latest snapshot has `status` for each agent in `expected`.
    static func waitFor(_ observed: Observed, _ expected: [Int: ConnectionStatus], _ what: String) async throws {
        try await eventually(what, timeout: .seconds(60), poll: .milliseconds(5)) {
            guard let snapshot = observed.snapshot else { return false }
            return expected.allSatisfy { snapshot.record(id: $0.key)?.status == $0.value }
        }
    }

    /// One storm round: `count` agents each make one transition (active ones stop, pending ones become
    /// active, the others connect).
    static func round(
        _ simulator: WazuhSimulator, _ number: Int, count: Int, made: inout [Made]
    ) throws -> [Int: ConnectionStatus] {
        simulator.now = baseTime + Int64(number) * 100
        var expected: [Int: ConnectionStatus] = [:]
        let ids = simulator.agentIDs
        for offset in 0..<count {
            let id = ids[(number * 37 + offset * 7) % ids.count]
            guard expected[id] == nil, let status = simulator.status(of: id) else { continue }
            let from = ConnectionStatus(databaseValue: status)
            if status == "active" {
                try simulator.apply(.stop(agentID: id))
            } else if status == "pending" {
                try simulator.apply(.activate(agentID: id))
            } else {
                try simulator.apply(.connect(agentID: id))
            }
            let to = ConnectionStatus(databaseValue: simulator.status(of: id))
            made.append(Made(agentID: id, from: from, to: to, time: simulator.now))
            expected[id] = to
        }
        return expected
    }

    @Test func switchingBothWaysMidStormNeitherLosesNorRepeatsATransition() async throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 300, initiallyActive: 0.8)
        var server: WazuhDBSocketServer? = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server?.stop() }
        let monitor = Self.monitor(directory)
        let observed = Observed()
        let consumer = Self.consume(monitor, into: observed)
        defer { consumer.cancel() }
        try await Self.waitFor(observed, [:], "the baseline")
        #expect(monitor.activeSource == .wazuhDB)

        var made: [Made] = []
        // Rounds 0–1 through the socket, uncommitted: the file has none of them.
        for number in 0..<2 {
            let expected = try Self.round(simulator, number, count: 30, made: &made)
            try await Self.waitFor(observed, expected, "round \(number) through the socket")
        }
        #expect(simulator.hasOpenTransaction)
        // wazuh-db "restarts" mid-storm: the socket goes away with rounds 0–1 still uncommitted.
        server?.stop()
        server = nil
        let expected2 = try Self.round(simulator, 2, count: 30, made: &made)
        try simulator.commit()
        try await Self.waitFor(observed, expected2, "round 2 through the file")
        #expect(monitor.activeSource == .file)
        let expected3 = try Self.round(simulator, 3, count: 30, made: &made)
        try simulator.commit()
        try await Self.waitFor(observed, expected3, "round 3 through the file")
        // The socket is back: uncommitted rounds are seen through it again.
        server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        for number in 4..<6 {
            let expected = try Self.round(simulator, number, count: 30, made: &made)
            try await Self.waitFor(observed, expected, "round \(number) through the socket")
        }
        #expect(monitor.activeSource == .wazuhDB)
        server?.stop()
        server = nil
        let expected6 = try Self.round(simulator, 6, count: 30, made: &made)
        try simulator.commit()
        try await Self.waitFor(observed, expected6, "round 6 through the file")

        let reported = observed.changes.map {
            Made(agentID: $0.agentID, from: $0.previousStatus, to: $0.currentStatus, time: $0.transitionTime)
        }
        #expect(observed.sources == [.wazuhDB, .file, .wazuhDB, .file])
        #expect(reported.count == made.count, "reported \(reported.count) transitions, made \(made.count)")
        let missing = Set(made).subtracting(reported)
        let unexpected = Set(reported).subtracting(made)
        #expect(missing.isEmpty, "\(missing.count) transitions not reported, e.g. \(missing.prefix(3))")
        #expect(
            unexpected.isEmpty,
            "\(unexpected.count) transitions reported that were not made, e.g. \(unexpected.prefix(3))")
        #expect(Set(reported).count == reported.count, "a transition was reported twice")
        for id in Set(made.map(\.agentID)) {
            #expect(
                reported.filter { $0.agentID == id } == made.filter { $0.agentID == id }, "agent \(id) out of order")
        }
        #expect(monitor.health.sourceSwitches == 3)
    }

    @Test func withoutACommitTheFileIsTrustedOnlyAfterTheCatchUpLimit() async throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 20, initiallyActive: 1)
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        let monitor = Self.monitor(directory, catchUpLimit: .milliseconds(400))
        let observed = Observed()
        let consumer = Self.consume(monitor, into: observed)
        defer { consumer.cancel() }
        try await Self.waitFor(observed, [:], "the baseline")
        simulator.now = baseTime + 50
        try simulator.apply(.stop(agentID: 4))
        try await Self.waitFor(observed, [4: .disconnected], "the stop through the socket")
        // wazuh-db dies and loses its transaction: the file never gets the stop.
        server.stop()
        try simulator.close()
        try await eventually("the monitor waiting for a commit", timeout: .seconds(30), poll: .milliseconds(5)) {
            monitor.health.waitingForFileCommit
        }
        // After the limit the file is the truth: the lost stop is undone by a reported reconnection.
        try await Self.waitFor(observed, [4: .active], "the file after the catch-up limit")
        let changes = observed.changes.filter { $0.agentID == 4 }.map { [$0.previousStatus, $0.currentStatus] }
        #expect(changes == [[.active, .disconnected], [.disconnected, .active]])
        #expect(monitor.activeSource == .file)
    }
}
