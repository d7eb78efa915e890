import Foundation
import Logging
import Outbox
import ServiceLifecycle
import Testing
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// Anomaly findings journaled with their cause, their state across restarts, and the detection service
/// with anomaly detection on, against real SQLite outboxes.
@Suite(.serialized)
struct AnomalyJournalTests {
    let logger = Logger(label: "anomaly-test", factory: { _ in SwiftLogNoOpLogHandler() })
    let key = try! SigningKey(bytes: Array(repeating: 5, count: 32))

    final class Directory {
        let path = NSTemporaryDirectory() + "/anomaly-journal-\(UUID().uuidString)"
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func journal(clock: @escaping @Sendable () -> Int64 = { 1_716_897_000_000 }) throws -> AnomalyJournal {
        AnomalyJournal(
            encoder: AnomalyEncoder(
                subjects: try Subjects(prefix: "test"), signingKey: key, managerNode: "mgr", windowSeconds: 600),
            thresholds: AnomalyThresholds(), logger: logger, clockMilliseconds: clock)
    }

    /// Agent 7 going Active ⇄ Disconnected (keepalive timeouts), one change per `index`.
    func flap(_ index: Int) -> AgentChange {
        let disconnected = index % 2 == 0
        return AgentChange(
            kind: .statusChange, agentID: 7, agentName: "web-07", ipAddress: "10.0.0.7",
            previousStatus: disconnected ? .active : .disconnected,
            currentStatus: disconnected ? .disconnected : .active,
            reason: disconnected ? .keepaliveTimeout : nil, statusCode: disconnected ? 4 : 0,
            lastKeepalive: 1_716_896_000 + Int64(index) * 20, nodeName: "node01", dateAdd: 1_700_000_000,
            transitionTime: 1_716_896_000 + Int64(index) * 20)
    }

    let snapshot = AgentSnapshot(records: [
        AgentRecord(
            id: 7, name: "web-07", ip: "10.0.0.7", status: .active, lastKeepalive: 1_716_896_400,
            dateAdd: 1_700_000_000,
            disconnectionTime: 0, statusCode: 0, nodeName: "node01")
    ])

    /// Journals `changes` as one cycle: the encoder's rows for them plus the anomaly rows, one transaction.
    func cycle(_ journal: AnomalyJournal, _ store: OutboxStore, _ changes: [AgentChange]) throws {
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "mgr"), subjects: try Subjects(prefix: "test"), signingKey: key)
        let rows = encoder.messages(
            for: changes, counts: snapshot.counts, detectedAtMilliseconds: 1_716_897_000_000)
        try journal.journalCycle(
            changes, rows: rows, snapshot: snapshot, detectedAtMilliseconds: 1_716_897_000_000
        ) { journaled, meta in
            try store.appendDetection(messages: journaled, snapshot: snapshot.export(), meta: meta)
        }
    }

    /// The JSON object a journaled payload holds.
    func object(_ payload: [UInt8]) throws -> [String: JSONValue] {
        try #require(try JSONParser().parse(payload).objectValue)
    }

    func anomalyRows(_ store: OutboxStore) throws -> [OutboxMessage] {
        try store.messages(matching: OutboxQuery(limit: 10_000)).filter { $0.subject.hasSuffix("anomaly") }
    }

    @Test func aRestartInTheMiddleOfAWindowKeepsCountingAndRaisesOnce() throws {
        let directory = try Directory()
        let path = directory.path + "/outbox.db"
        do {
            let store = try OutboxStore(path: path, synchronous: .normal)
            let first = try journal()
            first.restore(from: store)
            for index in 0..<6 { try cycle(first, store, [flap(index)]) }
            #expect(try anomalyRows(store).isEmpty)
            try store.close()
        }
        // A new process: the detector's windows come back from the outbox.
        let store = try OutboxStore(path: path, synchronous: .normal)
        let second = try journal()
        second.restore(from: store)
        for index in 6..<20 { try cycle(second, store, [flap(index)]) }
        let rows = try anomalyRows(store)
        #expect(rows.map(\.subject) == ["test.security.anomaly", "test.agent.007.anomaly"])
        #expect(rows[1].messageID == rows[0].messageID + ":anomaly")

        // The finding sits right after the transition that crossed the threshold, in its cycle.
        let all = try store.messages(matching: OutboxQuery(limit: 10_000))
        let position = try #require(all.firstIndex { $0.subject == "test.security.anomaly" })
        #expect(all[position - 1].subject == "test.security.agent_events")
        let crossing = try #require(all[..<position].last { $0.kind == .event })
        #expect(crossing.eventID.contains("_\(flap(10).transitionTime)_"))

        // A second gateway (or a lost outbox) re-detecting the same history derives the same id.
        let other = try OutboxStore(path: directory.path + "/other.db", synchronous: .normal)
        let third = try journal()
        third.restore(from: other)
        for index in 0..<20 { try cycle(third, other, [flap(index)]) }
        #expect(try anomalyRows(other).map(\.messageID) == rows.map(\.messageID))
        try other.close()
        try store.close()
    }

    @Test func aFailedWriteCountsNothingAndTheRetryRaisesOnce() throws {
        let directory = try Directory()
        let store = try OutboxStore(path: directory.path + "/outbox.db", synchronous: .normal)
        defer { try? store.close() }
        let journal = try journal()
        journal.restore(from: store)
        for index in 0..<10 { try cycle(journal, store, [flap(index)]) }
        struct DiskFull: Error {}
        #expect(throws: DiskFull.self) {
            try journal.journalCycle([flap(10)], rows: [], snapshot: snapshot, detectedAtMilliseconds: 0) { _, _ in
                throw DiskFull()
            }
        }
        try cycle(journal, store, [flap(10)])
        let row = try #require(try anomalyRows(store).first)
        let event = try AnomalyEvent(jsonObject: try object(row.payload))
        #expect(event.kind == .flapping && event.observed == 11 && event.agentID == "007")
        #expect(key.verify(event.jsonObject))
        try cycle(journal, store, [flap(11)])
        #expect(try anomalyRows(store).count == 2)
    }

    @Test func theRateLimitCondensesSecondaryRowsKeepsEveryStatusAndSummarisesEachWindow() throws {
        let directory = try Directory()
        let store = try OutboxStore(path: directory.path + "/outbox.db", synchronous: .normal)
        defer { try? store.close() }
        let windowStart: Int64 = 1_716_896_040  // a multiple of 60
        let journal = AnomalyJournal(
            encoder: AnomalyEncoder(
                subjects: try Subjects(prefix: "test"), signingKey: key, managerNode: "mgr", windowSeconds: 600),
            thresholds: AnomalyThresholds(), rateLimit: AgentRateLimiter(limit: 3, windowSeconds: 60),
            logger: logger, clockMilliseconds: { (windowStart + 125) * 1000 })
        journal.restore(from: store)
        func change(_ index: Int, at time: Int64) -> AgentChange {
            var change = flap(index)
            change.transitionTime = time
            return change
        }
        // Window 1: eight transitions, five beyond the limit; window 2: five, two beyond.
        for index in 0..<8 { try cycle(journal, store, [change(index, at: windowStart + Int64(index) * 5)]) }
        for index in 8..<13 { try cycle(journal, store, [change(index, at: windowStart + 65 + Int64(index - 8))]) }
        // Window 2 closes by the clock (no transition needs to come).
        try journal.tick(store: store)

        let all = try store.messages(matching: OutboxQuery(limit: 10_000))
        let statuses = all.filter { $0.subject == "test.agent.007.status" }
        #expect(statuses.count == 13)
        let secondaries = all.filter { $0.subject.hasSuffix(".connected") || $0.subject.hasSuffix(".disconnected") }
        #expect(secondaries.count == 6)
        // The last .status message carries the agent's true latest status.
        let lastRow = try #require(statuses.last)
        let last = try AgentStatusEvent(jsonObject: try object(lastRow.payload))
        #expect(last.currentStatus == "Disconnected" && flap(12).currentStatus == .disconnected)

        let summaries = try all.filter { $0.subject == "test.agent.007.flapping" }.map { row in
            try FlappingSummary(jsonObject: try object(row.payload))
        }
        #expect(summaries.map(\.transitions) == [8, 5])
        #expect(summaries.map(\.condensed) == [5, 2])
        #expect(summaries.map(\.firstStatus) == ["Active", "Active"])
        #expect(summaries.map(\.lastStatus) == ["Active", "Disconnected"])
        #expect(summaries[0].windowStart == "2024-05-28T11:34:00Z" && summaries[0].windowEnd == "2024-05-28T11:35:00Z")
        #expect(summaries.allSatisfy { key.verify($0.jsonObject) })
        // The first summary is journaled in the cycle that closed its window, before that cycle's rows.
        let firstSummary = try #require(all.firstIndex { $0.subject == "test.agent.007.flapping" })
        #expect(all[firstSummary + 1].eventID.contains("_\(windowStart + 65)_"))
        // Both windows are over: the limiter keeps no open window, in memory or journaled.
        let restored = AnomalyStateLog(restoring: try store.metaValues(prefixes: [AnomalyJournal.keyPrefix]))
        #expect(restored.windows.isEmpty && restored.tracks[7] != nil)
    }

    @Test func theDetectionServiceJournalsAMassDisconnectionWithItsEvents() async throws {
        let directory = try Directory()
        let simulator = try WazuhSimulator(
            configuration: .init(databasePath: directory.path + "/global.db", agentCount: 40, initiallyActive: 1.0),
            now: 1_716_897_000)
        defer { try? simulator.close() }
        let store = try OutboxStore(path: directory.path + "/outbox.db", synchronous: .normal)
        defer { try? store.close() }
        let monitor = AgentStatusMonitor(
            configuration: .init(databasePath: directory.path + "/global.db", pollInterval: .milliseconds(200)))
        let service = DetectionService(
            monitor: monitor, store: store,
            encoder: DetectionEncoder(
                mapper: AgentEventMapper(managerNode: "mgr"), subjects: try Subjects(prefix: "test"), signingKey: key),
            wakeSignal: DeliveryWakeSignal(), anomalies: try journal(), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
        let task = Task { try await group.run() }
        defer { task.cancel() }
        try await eventually("the baseline") { (try? store.loadSnapshot()) != nil }
        simulator.now += 30
        try simulator.step(.massDisconnect, starting: true)
        try simulator.commit()
        try await eventually("the anomaly row") { ((try? self.anomalyRows(store)) ?? []).count == 1 }
        await group.triggerGracefulShutdown()
        try await task.value

        let all = try store.messages(matching: OutboxQuery(limit: 10_000))
        #expect(all.filter { $0.subject.hasSuffix(".disconnected") }.count == 24)
        #expect(all.last?.subject == "test.security.anomaly")
        let state = try #require(try store.metaValue(AnomalyJournal.stateKey))
        #expect(state.contains("massLatched"))
    }
}
