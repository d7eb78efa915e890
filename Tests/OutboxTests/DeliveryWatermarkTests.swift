import Foundation
import GRDB
import OutboxMigrations
import Testing
import WireContract

@testable import Outbox

/// Delivery in journal order is recorded as a watermark and one window row per acknowledgement, not a
/// write per message; every reader of delivery state answers as it did with per-row marks.
struct DeliveryWatermarkTests {
    private func acks(_ messages: [OutboxMessage], stream: UInt64) -> [(seq: Int64, streamSequence: UInt64?)] {
        messages.enumerated().map { (seq: $0.element.seq, streamSequence: stream + UInt64($0.offset)) }
    }

    private func rowMarks(_ dir: TemporaryDirectory) throws -> Int {
        try Fixtures.withConnection(dir.outboxPath) { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") ?? -1
        }
    }

    @Test func inOrderDeliveryWritesOneWindowAndNoRow() throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        try store.appendDetection(messages: (1...10).map { Fixtures.message($0) }, snapshot: [1])
        let page = try store.pendingMessages(afterSeq: 0, limit: 10)
        try store.markDelivered(acks(Array(page.prefix(6)), stream: 100), at: clock.now)

        #expect(try rowMarks(dir) == 0)
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == Array(page.suffix(4).map(\.seq)))
        #expect(try store.pendingCount() == 4)
        #expect(try store.oldestPendingCreatedAt() == clock.now)
        let entries = try store.entries(matching: OutboxQuery(limit: 20))
        #expect(entries.prefix(6).map(\.streamSequence) == (100...105).map { UInt64($0) })
        #expect(entries.prefix(6).allSatisfy { $0.deliveredAt == clock.now })
        #expect(entries.suffix(4).allSatisfy { $0.deliveredAt == nil && $0.streamSequence == nil })
        #expect(try store.entries(matching: OutboxQuery(deliveredOnly: true, limit: 20)).count == 6)
        let stats = try store.stats()
        #expect(stats.pending == 4 && stats.delivered == 6 && stats.parked == 0)

        // A second acknowledgement of the same rows changes nothing and is not recorded again.
        clock.advance(by: 5)
        try store.markDelivered(acks(Array(page.prefix(2)), stream: 900), at: clock.now)
        #expect(try store.entries(matching: OutboxQuery(limit: 2)).map(\.streamSequence) == [100, 101])
        #expect(try rowMarks(dir) == 0)
    }

    @Test func parkedRowsAreExceptionsBelowTheWatermarkAndUnparkingResendsOnlyThem() throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        try store.appendDetection(messages: (1...6).map { Fixtures.message($0) }, snapshot: [1])
        let page = try store.pendingMessages(afterSeq: 0, limit: 10)
        try store.markDelivered(acks(Array(page[0...1]), stream: 1), at: clock.now)
        try store.park(seq: page[2].seq, error: "too large")
        try store.markDelivered(acks(Array(page[3...4]), stream: 3), at: clock.now)
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [page[5].seq])
        #expect(try store.parkedCount() == 1)
        #expect(try rowMarks(dir) == 0)
        // Retention keeps the parked row.
        clock.advance(by: 10_000)
        #expect(try store.prune(olderThan: clock.now, maxBytes: nil) == 4)
        #expect(try store.entries(matching: OutboxQuery(limit: 10)).map(\.message.seq) == [page[2].seq, page[5].seq])

        #expect(try store.unpark(seq: page[2].seq))
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [page[2].seq, page[5].seq])
        try store.markDelivered(acks([page[2], page[5]], stream: 9), at: clock.now)
        #expect(try store.pendingCount() == 0)
        #expect(try store.stats().delivered == 2)
    }

    @Test func unparkingBelowDeliveredWindowsKeepsThemDelivered() throws {
        let (_, clock, store) = try Fixtures.openFresh()
        try store.appendDetection(messages: (1...6).map { Fixtures.message($0) }, snapshot: [1])
        let page = try store.pendingMessages(afterSeq: 0, limit: 10)
        try store.park(seq: page[1].seq, error: "poison")
        try store.markDelivered(acks([page[0]], stream: 1), at: clock.now)
        try store.markDelivered(acks(Array(page[2...3]), stream: 2), at: clock.now)
        try store.markDelivered(acks(Array(page[4...5]), stream: 4), at: clock.now + 1)

        #expect(try store.unpark(seq: page[1].seq))
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [page[1].seq])
        let entries = try store.entries(matching: OutboxQuery(limit: 10))
        #expect(entries.map(\.streamSequence) == [1, nil, 2, 3, 4, 5])
        #expect(entries.map(\.deliveredAt) == [clock.now, nil, clock.now, clock.now, clock.now + 1, clock.now + 1])
        try store.markDelivered(acks([page[1]], stream: 6), at: clock.now)
        #expect(try store.pendingCount() == 0 && store.stats().delivered == 6)
    }

    @Test func outOfOrderAcknowledgementsAreMarkedOnTheirRows() throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        try store.appendDetection(messages: (1...4).map { Fixtures.message($0) }, snapshot: [1])
        let page = try store.pendingMessages(afterSeq: 0, limit: 10)
        try store.markDelivered(acks([page[2]], stream: 3), at: clock.now)
        #expect(try rowMarks(dir) == 1)
        #expect(
            try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [page[0].seq, page[1].seq, page[3].seq])
        // The rows before it arrive: one window, and the watermark passes the row marked on its own.
        try store.markDelivered(acks(Array(page[0...1]), stream: 1), at: clock.now)
        try store.markDelivered(acks([page[3]], stream: 4), at: clock.now)
        #expect(try rowMarks(dir) == 1)
        #expect(try store.pendingCount() == 0)
        #expect(try store.entries(matching: OutboxQuery(limit: 10)).map(\.streamSequence) == [1, 2, 3, 4])
    }

    @Test func auditedWindowsRecordEveryMessageOnce() throws {
        let (_, clock, store) = try Fixtures.openFresh()
        try store.appendDetection(messages: (1...5).map { Fixtures.message($0) }, snapshot: [1])
        let page = try store.pendingMessages(afterSeq: 0, limit: 10)
        func audited(_ messages: ArraySlice<OutboxMessage>) -> [AuditedDelivery] {
            messages.map {
                AuditedDelivery(
                    seq: $0.seq, streamSequence: UInt64($0.seq), subject: $0.subject, messageID: $0.messageID,
                    payloadSHA256: AuditRecord.sha256($0.payload))
            }
        }
        try store.markDelivered(audited: audited(page[0...2]), at: clock.now)
        try store.markDelivered(audited: audited(page[1...4]), at: clock.now)
        let records = try store.auditRecords(afterSequence: 0, limit: 20)
        #expect(records.map(\.outboxSeq) == page.map(\.seq))
        #expect(try store.verifyAudit().isIntact)
        #expect(try store.pendingCount() == 0)
    }

    /// An outbox written before the watermark (every migration up to v005) with delivered, parked and
    /// pending rows: after the upgrade nothing delivered is pending again and nothing pending is lost.
    @Test func anOutboxFromBeforeTheWatermarkUpgradesInPlace() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        do {
            let queue = try DatabaseQueue(path: dir.outboxPath)
            var migrator = DatabaseMigrator()
            for migration in OutboxMigrations.all.prefix(while: { $0.identifier != "v006_delivery_watermark" }) {
                migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sql) }
            }
            try migrator.migrate(queue)
            try queue.write { db in
                for index in 1...8 {
                    let message = Fixtures.message(index)
                    try db.execute(
                        sql: """
                            INSERT INTO outbox (message_id, event_id, kind, subject, agent_id, payload, created_at,
                                delivered_at, stream_seq, parked_at)
                            VALUES (?, ?, 'event', ?, ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [
                            message.messageID, message.eventID, message.subject, message.agentID,
                            Data(message.payload), clock.now,
                            // 1, 2, 4 and 6 delivered; 3 parked; 5, 7, 8 pending.
                            [1, 2, 4, 6].contains(index) ? clock.now : nil,
                            [1, 2, 4, 6].contains(index) ? index * 10 : nil,
                            index == 3 ? clock.now : nil,
                        ])
                }
            }
            try queue.close()
        }
        let store = try Fixtures.open(dir, clock: clock)
        #expect(store.openReport.appliedMigrations == ["v006_delivery_watermark"])
        #expect(try store.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [5, 7, 8])
        #expect(try store.stats().delivered == 4)
        #expect(try store.parkedCount() == 1)
        #expect(
            try store.entries(matching: OutboxQuery(limit: 10)).map(\.streamSequence) == [
                10, 20, nil, 40, nil, 60, nil, nil,
            ])

        let pending = try store.pendingMessages(afterSeq: 0, limit: 10)
        try store.markDelivered(acks(pending, stream: 70), at: clock.now)
        #expect(try store.pendingCount() == 0 && store.stats().delivered == 7)
        try store.close()
        let reopened = try Fixtures.open(dir, clock: clock)
        #expect(reopened.openReport.appliedMigrations.isEmpty)
        #expect(try reopened.pendingMessages(afterSeq: 0, limit: 10).isEmpty)
        #expect(
            try reopened.entries(matching: OutboxQuery(limit: 10)).map(\.streamSequence) == [
                10, 20, nil, 40, 70, 60, 71, 72,
            ])
    }
}
