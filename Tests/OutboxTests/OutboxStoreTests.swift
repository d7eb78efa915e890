import Foundation
import GRDB
import Testing

@testable import Outbox

struct OutboxStoreTests {
    @Test func newOutboxIsWALWithRequestedSynchronous() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let full = try Fixtures.open(dir, clock: clock)
        #expect(full.openReport.created)
        #expect(full.openReport.appliedMigrations == OutboxMigrationsList.identifiers)
        let pragmas = try full.pragmas()
        #expect(pragmas.journalMode == "wal")
        #expect(pragmas.synchronous == 2)
        #expect(try full.baselineRecordedAt() == nil)
        #expect(try full.loadSnapshot() == nil)
        try full.close()
        let normal = try Fixtures.open(dir, clock: clock, synchronous: .normal)
        #expect(!normal.openReport.created)
        #expect(normal.openReport.appliedMigrations.isEmpty)
        #expect(try normal.pragmas().synchronous == 1)
    }

    @Test func sameMessageTwiceIsStoredOnce() throws {
        let dir = try TemporaryDirectory()
        let store = try Fixtures.open(dir, clock: TestClock())
        let messages = (1...3).map { Fixtures.message($0) }
        #expect(try store.appendDetection(messages: messages, snapshot: [1]) == 3)
        #expect(try store.appendDetection(messages: messages + [Fixtures.message(4)], snapshot: [2]) == 1)
        var changedPayload = messages[0]
        changedPayload.payload = [9, 9, 9]
        #expect(try store.appendDetection(messages: [changedPayload, changedPayload], snapshot: [3]) == 0)
        let pending = try store.pendingMessages(afterSeq: 0, limit: 100)
        #expect(pending.map(\.messageID) == ["evt_001_1", "evt_002_2", "evt_003_3", "evt_004_4"])
        #expect(pending[0].payload == messages[0].payload)  // the first row wins
        #expect(try store.loadSnapshot() == [3])
    }

    @Test func failedDetectionTransactionChangesNothing() throws {
        let dir = try TemporaryDirectory()
        let store = try Fixtures.open(dir, clock: TestClock())
        try store.appendDetection(messages: [Fixtures.message(1)], snapshot: [1, 1])
        // Make the snapshot write fail inside the transaction, after the messages were inserted.
        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER fail_snapshot BEFORE UPDATE ON source_snapshot
                    BEGIN SELECT RAISE(ABORT, 'simulated snapshot write failure'); END
                    """)
        }
        let error = #expect(throws: OutboxError.self) {
            try store.appendDetection(messages: [Fixtures.message(2), Fixtures.message(3)], snapshot: [2, 2])
        }
        #expect(error?.code == .database)
        #expect(error?.description.contains("simulated snapshot write failure") == true)
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.messageID) == ["evt_001_1"])
        #expect(try store.loadSnapshot() == [1, 1])
        #expect(try store.pendingCount() == 1)

        try Fixtures.withConnection(dir.outboxPath) { db in try db.execute(sql: "DROP TRIGGER fail_snapshot") }
        #expect(
            try store.appendDetection(messages: [Fixtures.message(2), Fixtures.message(3)], snapshot: [2, 2]) == 2)
        #expect(try store.loadSnapshot() == [2, 2])
    }

    @Test func everythingSurvivesCloseAndReopen() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        var store = try Fixtures.open(dir, clock: clock)
        try store.recordBaseline(snapshot: [7])
        try store.appendDetection(messages: (1...5).map { Fixtures.message($0) }, snapshot: [8])
        try store.markDelivered([(seq: 1, streamSequence: 101)], at: clock.now)
        try store.recordFailure(seq: 2, error: "timeout", nextAttemptAt: clock.now + 500)
        try store.park(seq: 3, error: "maximum payload exceeded")
        try store.close()

        store = try Fixtures.open(dir, clock: clock)
        #expect(try store.baselineRecordedAt() == clock.now)
        #expect(try store.loadSnapshot() == [8])
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [2, 4, 5])
        let entries = try store.entries(matching: OutboxQuery(limit: 10))
        #expect(entries.count == 5)
        #expect(entries[0].deliveredAt == clock.now && entries[0].streamSequence == 101)
        #expect(
            entries[1].attempts == 1 && entries[1].lastError == "timeout" && entries[1].nextAttemptAt == clock.now + 500
        )
        #expect(entries[2].parkedAt != nil && entries[2].lastError == "maximum payload exceeded")
        #expect(try store.parkedCount() == 1)
        // Sequence numbers are never reused, even after deleting the newest rows.
        try store.markDelivered([(seq: 5, streamSequence: nil)], at: clock.now)
        try store.prune(olderThan: clock.now + 1, maxBytes: nil)
        try store.appendDetection(messages: [Fixtures.message(6)], snapshot: [9])
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).last?.seq == 6)
    }

    @Test func pendingMessagesPageInJournalOrder() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        for cycle in 0..<10 {
            try store.appendDetection(
                messages: (0..<25).map { Fixtures.message(cycle * 25 + $0, agent: $0) }, snapshot: [UInt8(cycle)])
            clock.advance(by: 1000)
        }
        try store.markDelivered((1...10).map { (seq: Int64($0), streamSequence: UInt64($0)) }, at: clock.now)
        try store.park(seq: 20, error: "too large")
        var seen = [Int64]()
        var after: Int64 = 0
        while true {
            let page = try store.pendingMessages(afterSeq: after, limit: 17)
            if page.isEmpty { break }
            #expect(page.count <= 17)
            seen += page.map(\.seq)
            after = page.last?.seq ?? after
        }
        let expected: [Int64] = (Int64(11)...Int64(250)).filter { $0 != 20 }
        #expect(seen == expected)
        #expect(try store.pendingCount() == 239)
        #expect(try store.oldestPendingCreatedAt() == 1_716_897_300_000)
        #expect(throws: OutboxError.self) { try store.pendingMessages(afterSeq: 0, limit: -1) }
    }

    @Test func deliveryFailureAndParkingUpdateState() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...3).map { Fixtures.message($0) }, snapshot: [])
        try store.recordFailure(seq: 1, error: "no responders", nextAttemptAt: clock.now + 100)
        try store.recordFailure(seq: 1, error: "timeout", nextAttemptAt: clock.now + 200)
        try store.markDelivered([(seq: 1, streamSequence: 7), (seq: 2, streamSequence: nil)], at: clock.now + 5)
        try store.markDelivered([(seq: 1, streamSequence: 99)], at: clock.now + 10)  // keeps the first ack
        try store.park(seq: 3, error: "rejected")
        let entries = try store.entries(matching: OutboxQuery(limit: 10))
        #expect(entries[0].attempts == 2 && entries[0].lastError == "timeout")
        #expect(
            entries[0].deliveredAt == clock.now + 5 && entries[0].streamSequence == 7 && entries[0].nextAttemptAt == nil
        )
        #expect(entries[1].deliveredAt == clock.now + 5 && entries[1].streamSequence == nil)
        #expect(!entries[2].isPending)
        #expect(try store.pendingCount() == 0)
        #expect(try store.oldestPendingCreatedAt() == nil)
        #expect(try store.unpark(seq: 3))
        #expect(try !store.unpark(seq: 3))
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [3])
        let stats = try store.stats()
        #expect(stats.pending == 1 && stats.delivered == 2 && stats.parked == 0 && stats.lastSeq == 3)
        #expect(stats.databaseBytes > 0)
    }

    @Test func markingInRunsRecordsEachRowsOwnStreamSequenceAndOnlyTheRowsListed() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...20).map { Fixtures.message($0) }, snapshot: [])
        try store.markDelivered([(seq: 4, streamSequence: 500)], at: clock.now)  // an earlier ack
        // Acks as a group commit hands them in: runs, a gap (7 and 15 not acknowledged), a stream sequence
        // that jumps (another publisher in between), unknown ones, one row twice, one out of order.
        let acks: [(seq: Int64, streamSequence: UInt64?)] = [
            (1, 11), (2, 12), (3, 13), (4, 14), (5, 15), (6, 16),
            (8, 30), (9, 31), (10, 40), (11, 41),
            (12, nil), (13, nil), (14, 60),
            (16, 70), (16, 70), (18, 72), (17, 71),
        ]
        try store.markDelivered(acks, at: clock.now + 7)
        let entries = try store.entries(matching: OutboxQuery(limit: 100))
        let marked = entries.filter { $0.deliveredAt != nil }
        #expect(marked.map(\.message.seq) == [1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18])
        let streams = Dictionary(uniqueKeysWithValues: marked.map { ($0.message.seq, $0.streamSequence) })
        let expected: [Int64: UInt64?] = [
            1: 11, 2: 12, 3: 13, 4: 500, 5: 15, 6: 16, 8: 30, 9: 31, 10: 40, 11: 41, 12: nil, 13: nil, 14: 60,
            16: 70, 17: 71, 18: 72,
        ]
        #expect(streams == expected)
        #expect(entries.first { $0.message.seq == 4 }?.deliveredAt == clock.now)  // keeps the first ack
        #expect(try store.pendingMessages(afterSeq: 0, limit: 100).map(\.seq) == [7, 15, 19, 20])
    }

    @Test func acknowledgementsSplitIntoConsecutiveRuns() {
        typealias Run = OutboxStore.DeliveredRun
        #expect(OutboxStore.consecutiveRuns([]) == [])
        #expect(
            OutboxStore.consecutiveRuns((1...256).map { (seq: Int64($0), streamSequence: UInt64($0 + 1000)) })
                == [Run(first: 1, last: 256, firstStreamSequence: 1001)])
        #expect(
            OutboxStore.consecutiveRuns([(1, nil), (2, nil), (3, 5), (4, 6), (5, nil), (7, nil), (6, nil)])
                == [
                    Run(first: 1, last: 2, firstStreamSequence: nil), Run(first: 3, last: 4, firstStreamSequence: 5),
                    Run(first: 5, last: 5, firstStreamSequence: nil), Run(first: 7, last: 7, firstStreamSequence: nil),
                    Run(first: 6, last: 6, firstStreamSequence: nil),
                ])
        // A stream sequence beyond Int64 is stored as unknown.
        #expect(
            OutboxStore.consecutiveRuns([(1, UInt64.max), (2, nil)]) == [
                Run(first: 1, last: 2, firstStreamSequence: nil)
            ])
    }

    @Test func queriesFilterByTimeAgentSeqAndDelivery() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock(1_000_000)
        let store = try Fixtures.open(dir, clock: clock)
        for cycle in 0..<4 {
            try store.appendDetection(
                messages: (1...3).map { Fixtures.message(cycle * 10 + $0, agent: $0) }
                    + [Fixtures.message(cycle * 10 + 9, kind: .batch)],
                snapshot: [])
            clock.advance(by: 60_000)
        }
        try store.markDelivered((1...8).map { (seq: Int64($0), streamSequence: nil) }, at: clock.now)
        #expect(try store.messages(matching: OutboxQuery(agentID: "002", limit: 100)).map(\.seq) == [2, 6, 10, 14])
        #expect(
            try store.messages(matching: OutboxQuery(createdFrom: 1_060_000, createdBefore: 1_180_000, limit: 100)).map(
                \.seq)
                == Array(Int64(5)...Int64(12)))
        #expect(
            try store.messages(matching: OutboxQuery(seqFrom: 3, seqThrough: 5, limit: 100)).map(\.seq) == [3, 4, 5])
        #expect(try store.messages(matching: OutboxQuery(deliveredOnly: true, limit: 100)).count == 8)
        #expect(try store.messages(matching: OutboxQuery(kinds: [.batch], limit: 100)).map(\.seq) == [4, 8, 12, 16])
        #expect(try store.messages(matching: OutboxQuery(afterSeq: 14, limit: 100)).map(\.seq) == [15, 16])
        #expect(try store.messages(matching: OutboxQuery(limit: 3)).map(\.seq) == [1, 2, 3])
        #expect(
            try store.messages(matching: OutboxQuery(agentID: "002", deliveredOnly: true, limit: 100)).map(\.seq) == [
                2, 6,
            ])
    }

    @Test func retentionNeverTouchesPendingOrParkedRows() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...30).map { Fixtures.message($0) }, snapshot: [])
        try store.markDelivered((1...10).map { (seq: Int64($0), streamSequence: nil) }, at: clock.now)
        try store.park(seq: 11, error: "x")
        clock.advance(by: 10_000)
        try store.appendDetection(messages: (31...40).map { Fixtures.message($0) }, snapshot: [])
        try store.markDelivered((31...35).map { (seq: Int64($0), streamSequence: nil) }, at: clock.now)

        // Everything is "old": only delivered rows go.
        #expect(try store.prune(olderThan: clock.now + 1, maxBytes: nil) == 15)
        let remaining = try store.entries(matching: OutboxQuery(limit: 100))
        #expect(remaining.allSatisfy { $0.deliveredAt == nil })
        #expect(remaining.count == 25)
        #expect(try store.parkedCount() == 1)
        // A cap smaller than the pending rows cannot be met; pending rows stay anyway.
        #expect(try store.prune(olderThan: 0, maxBytes: 1) == 0)
        #expect(try store.pendingCount() == 24)
    }

    @Test func retentionByAgeKeepsRecentDeliveredRows() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...5).map { Fixtures.message($0) }, snapshot: [])
        clock.advance(by: 3_600_000)
        try store.appendDetection(messages: (6...10).map { Fixtures.message($0) }, snapshot: [])
        try store.markDelivered((1...10).map { (seq: Int64($0), streamSequence: nil) }, at: clock.now)
        #expect(try store.prune(olderThan: clock.now - 60_000, maxBytes: nil) == 5)
        #expect(try store.messages(matching: OutboxQuery(limit: 100)).map(\.seq) == Array(Int64(6)...Int64(10)))
    }

    @Test func sizeCapDeletesOldestDeliveredFirst() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        for cycle in 0..<20 {
            try store.appendDetection(
                messages: (0..<100).map { Fixtures.message(cycle * 100 + $0, size: 2000) }, snapshot: [])
        }
        try store.markDelivered((1...1900).map { (seq: Int64($0), streamSequence: nil) }, at: clock.now)
        let before = try store.usedBytes()
        #expect(before > 4_000_000)
        let cap: Int64 = 1_500_000
        let deleted = try store.prune(olderThan: 0, maxBytes: cap)
        #expect(deleted > 0)
        #expect(try store.usedBytes() <= cap)
        let remaining = try store.messages(matching: OutboxQuery(limit: 5000)).map(\.seq)
        // Oldest delivered went first: what is left is a contiguous tail, with all 100 pending rows.
        let tail: [Int64] = Array((remaining.first ?? 0)...Int64(2000))
        #expect(remaining == tail)
        #expect(try store.pendingCount() == 100)
        // The file shrank too (incremental vacuum + WAL truncate).
        #expect(try store.stats().databaseBytes < before)
    }

    @Test func corruptFileIsMovedAsideAndAFreshOutboxCreated() throws {
        let dir = try TemporaryDirectory()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try garbage.write(to: URL(fileURLWithPath: dir.outboxPath))
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        let report = store.openReport
        #expect(report.recoveredFromCorruption)
        #expect(report.created)
        #expect(report.corruption?.code == .corrupt || report.corruption?.code == .cannotOpen)
        let aside = "\(dir.outboxPath).corrupt-\(clock.now)"
        #expect(report.movedAsidePath == aside)
        #expect(FileManager.default.contents(atPath: aside) == garbage)  // kept for forensics, untouched
        #expect(try store.loadSnapshot() == nil)
        #expect(try store.appendDetection(messages: [Fixtures.message(1)], snapshot: [1]) == 1)
    }

    @Test func damagedDatabasePagesAreDetectedAndMovedAside() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        do {
            let store = try Fixtures.open(dir, clock: clock)
            try store.appendDetection(messages: (1...400).map { Fixtures.message($0, size: 300) }, snapshot: [1])
            try store.close()
        }
        // Overwrite the middle of the file (b-tree pages) but keep the header intact.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir.outboxPath))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 8192))
        try handle.close()
        let store = try Fixtures.open(dir, clock: clock)
        #expect(store.openReport.recoveredFromCorruption)
        #expect(try store.pendingCount() == 0)
    }

    @Test func unopenablePathIsATypedErrorNotARecovery() throws {
        let dir = try TemporaryDirectory()
        let error = #expect(throws: OutboxError.self) {
            try OutboxStore(path: dir.path + "/missing-dir/outbox.sqlite")
        }
        #expect(error?.code == .cannotOpen)
        #expect(error?.description.contains("missing-dir") == true)
    }

    @Test func concurrentDetectionAndDeliveryDoNotInterfere() async throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock, synchronous: .normal)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for cycle in 0..<50 {
                    try store.appendDetection(
                        messages: (0..<20).map { Fixtures.message(cycle * 20 + $0) }, snapshot: [UInt8(cycle)])
                }
            }
            group.addTask {
                var delivered = 0
                var after: Int64 = 0
                var idleRounds = 0
                while delivered < 1000 && idleRounds < 10_000 {
                    let page = try store.pendingMessages(afterSeq: after, limit: 64)
                    if page.isEmpty {
                        idleRounds += 1
                        await Task.yield()
                        continue
                    }
                    try store.markDelivered(page.map { (seq: $0.seq, streamSequence: UInt64($0.seq)) }, at: clock.now)
                    delivered += page.count
                    after = page.last?.seq ?? after
                }
            }
            try await group.waitForAll()
        }
        // The delivery task may stop before the last cycle; whatever is left is pending and in order.
        let stats = try store.stats()
        #expect(stats.pending + stats.delivered == 1000)
        #expect(try store.loadSnapshot() == [49])
    }
}

enum OutboxMigrationsList {
    static let identifiers = [
        "v001_create_outbox", "v002_parked_index", "v003_audit_log", "v004_audit_record_kind", "v005_manager_snapshots",
        "v006_delivery_watermark",
    ]
}
