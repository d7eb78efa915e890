import Foundation
import Testing
import WazuhSimulator
import WazuhSource

/// A restart whose journaled snapshot came through wazuh-db's socket, with the socket down: the
/// file is diffed against it only once it caught up, exactly as in a live socket → file switch.
@Suite struct SourceRestartHandOverTests {
    /// Feeds `monitor` from `journaled` (a snapshot restored from the outbox) into `observed`.
    static func resume(
        _ monitor: AgentStatusMonitor, from journaled: AgentSnapshot, into observed: SourceSwitchingTests.Observed
    ) -> Task<Void, Never> {
        Task {
            var confirmed = journaled
            while !Task.isCancelled {
                guard let update = try? await monitor.nextUpdate(after: confirmed) else { return }
                observed.record(update, source: monitor.activeSource)
                confirmed = update.snapshot
            }
        }
    }

    @Test func aRestartWithTheSocketDownDoesNotReportUncommittedTransitionsReversed() async throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 30, initiallyActive: 1)
        try simulator.commit()
        var server: WazuhDBSocketServer? = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server?.stop() }

        // First run: a stop seen through the socket, not committed yet, journaled with its snapshot.
        let first = SourceSwitchingTests.monitor(directory)
        let observed = SourceSwitchingTests.Observed()
        let consumer = SourceSwitchingTests.consume(first, into: observed)
        try await SourceSwitchingTests.waitFor(observed, [:], "the baseline")
        simulator.now = baseTime + 40
        try simulator.apply(.stop(agentID: 7))
        try await SourceSwitchingTests.waitFor(observed, [7: .disconnected], "the stop through the socket")
        consumer.cancel()
        await consumer.value
        let journal = try #require(observed.snapshot).export()
        #expect(simulator.hasOpenTransaction)

        // The gateway restarts while wazuh-db's socket is down: only the file, which lacks the stop.
        server?.stop()
        server = nil
        let second = SourceSwitchingTests.monitor(directory)
        let resumed = SourceSwitchingTests.Observed()
        let task = Self.resume(second, from: try AgentSnapshot(exported: journal), into: resumed)
        defer { task.cancel() }
        try await eventually(
            "the restarted monitor waiting for wazuh-db's commit (or reporting)", timeout: .seconds(60),
            poll: .milliseconds(5)
        ) { second.health.waitingForFileCommit || !resumed.changes.isEmpty }
        // Before the fix the file's stale state came out here as "7 Disconnected → Active".
        #expect(resumed.changes.isEmpty, "reported \(resumed.changes.map { "\($0.agentID) → \($0.currentStatus)" })")
        // wazuh-db commits what its socket showed; then another agent stops.
        try simulator.commit()
        simulator.now = baseTime + 80
        try simulator.apply(.stop(agentID: 9))
        try simulator.commit()
        try await SourceSwitchingTests.waitFor(resumed, [9: .disconnected], "the next stop through the file")
        let reported = resumed.changes.map { "\($0.agentID) \($0.previousStatus) → \($0.currentStatus)" }
        #expect(reported == ["9 \(ConnectionStatus.active) → \(ConnectionStatus.disconnected)"])
        #expect(second.activeSource == .file)
    }

    @Test func aJournaledSocketSnapshotOlderThanTheCatchUpLimitTrustsTheFileAtOnce() async throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 10, initiallyActive: 1)
        try simulator.commit()
        // A snapshot the socket read long ago showing agent 3 stopped; wazuh-db never committed it.
        var journaled = try GlobalDatabaseReader(path: directory.file("global.db")).read().snapshot
        var records = journaled.records
        records[2].status = .disconnected
        records[2].disconnectionTime = baseTime + 5
        journaled = AgentSnapshot(records: records)
        journaled.origin = SnapshotOrigin(
            source: .wazuhDB, fileChangeCounter: nil, readAt: Date(timeIntervalSinceNow: -3600))
        let monitor = SourceSwitchingTests.monitor(directory, catchUpLimit: .seconds(75))
        let resumed = SourceSwitchingTests.Observed()
        let task = Self.resume(monitor, from: try AgentSnapshot(exported: journaled.export()), into: resumed)
        defer { task.cancel() }
        // The lost stop is undone at once by a reported reconnection; no wait for a commit.
        try await SourceSwitchingTests.waitFor(resumed, [3: .active], "the file trusted at once")
        #expect(resumed.changes.map(\.agentID) == [3])
        #expect(!monitor.health.waitingForFileCommit)
    }
}
