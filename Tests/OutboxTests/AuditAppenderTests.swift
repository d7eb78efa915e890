import Foundation
import GRDB
import Testing
import WireContract

@testable import Outbox

/// The audit log's insert path (``AuditAppender``: parameters bound from the records' own buffers) stores
/// exactly the record ``AuditRecord/chained(sequence:recordedAt:outboxSeq:subject:messageID:streamSequence:payloadSHA256:previousHash:kind:)``
/// describes, and a failed insert leaves neither a record nor a delivered row behind.
struct AuditAppenderTests {
    @Test func storedRecordsAreExactlyTheChainedRecordsAcrossPartlyAcknowledgedWindows() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...9).map { Fixtures.message($0) }, snapshot: [1])
        let pending = try store.pendingMessages(afterSeq: 0, limit: 9)
        func audited(_ message: OutboxMessage, stream: UInt64?) -> AuditedDelivery {
            AuditedDelivery(
                seq: message.seq, streamSequence: stream, subject: message.subject, messageID: message.messageID,
                payloadSHA256: AuditRecord.sha256(message.payload + [0x5A]))
        }
        // A window of five acknowledged in part (rows 0, 1 and 3), a heartbeat, then the whole window again
        // with the rest: each row is recorded once, in acknowledgement order, without stream sequences too.
        try store.markDelivered(
            audited: [
                audited(pending[0], stream: 40), audited(pending[1], stream: 41), audited(pending[3], stream: 43),
            ],
            at: clock.now)
        try store.appendAudit(
            [
                AuditedDelivery(
                    seq: 0, streamSequence: nil, subject: "test.manager.m.heartbeat", messageID: "hb-1",
                    payloadSHA256: AuditRecord.sha256([1, 2, 3]), kind: .heartbeat)
            ], at: clock.now + 1)
        try store.markDelivered(audited: pending[0..<5].map { audited($0, stream: nil) }, at: clock.now + 2)
        try store.markDelivered(
            audited: pending[5...].map { audited($0, stream: 50 + UInt64($0.seq)) }, at: clock.now + 3)

        let records = try store.auditRecords(afterSequence: 0, limit: 100)
        let order: [Int64] = [0, 1, 3].map { pending[$0].seq } + [0] + [2, 4, 5, 6, 7, 8].map { pending[$0].seq }
        #expect(records.map(\.outboxSeq) == order)
        var previous = AuditRecord.genesisHash
        for record in records {
            let expected = AuditRecord.chained(
                sequence: record.sequence, recordedAt: record.recordedAt, outboxSeq: record.outboxSeq,
                subject: record.subject, messageID: record.messageID, streamSequence: record.streamSequence,
                payloadSHA256: record.payloadSHA256, previousHash: previous, kind: record.kind)
            #expect(record == expected)
            previous = record.hash
        }
        #expect(records[3].kind == .heartbeat && records[3].streamSequence == nil && records[1].streamSequence == 41)
        #expect(try store.verifyAudit().isIntact)
        #expect(try store.stats().delivered == 9)
    }

    @Test func windowsLongerThanOneInsertBatchAreStoredRecordForRecord() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        let count = 2 * AuditAppender.batchSize + 7
        try store.appendDetection(messages: (1...count).map { Fixtures.message($0) }, snapshot: [1])
        let pending = try store.pendingMessages(afterSeq: 0, limit: count)
        // Full batches and a remainder in one window, one of them with an empty message id, then a
        // window of exactly one batch of replays.
        let audited = pending.enumerated().map { index, message in
            AuditedDelivery(
                seq: message.seq, streamSequence: index % 3 == 0 ? nil : UInt64(index + 1), subject: message.subject,
                messageID: index == 40 ? "" : message.messageID, payloadSHA256: AuditRecord.sha256(message.payload))
        }
        let head = try store.markDelivered(audited: audited, at: clock.now)
        let replays = pending.prefix(AuditAppender.batchSize).map {
            AuditedDelivery(
                seq: $0.seq, streamSequence: nil, subject: $0.subject, messageID: $0.messageID + ":replay",
                payloadSHA256: AuditRecord.sha256($0.payload), kind: .replay)
        }
        let last = try store.appendAudit(replays, at: clock.now + 1)
        let records = try store.auditRecords(afterSequence: 0, limit: 1000)
        #expect(records.count == count + AuditAppender.batchSize)
        #expect(head?.sequence == Int64(count) && head?.hash == records[count - 1].hash)
        #expect(last?.sequence == Int64(records.count) && last?.hash == records.last?.hash)
        #expect(records[40].messageID == "" && records[0].streamSequence == nil && records[1].streamSequence == 2)
        var previous = AuditRecord.genesisHash
        for (index, record) in records.enumerated() {
            let source = index < count ? audited[index] : replays[index - count]
            let expected = AuditRecord.chained(
                sequence: Int64(index + 1), recordedAt: index < count ? clock.now : clock.now + 1,
                outboxSeq: source.seq, subject: source.subject, messageID: source.messageID,
                streamSequence: source.streamSequence, payloadSHA256: source.payloadSHA256, previousHash: previous,
                kind: source.kind)
            #expect(record == expected)
            previous = record.hash
        }
        #expect(try store.verifyAudit().isIntact)
    }

    @Test func aFailedInsertRollsTheWholeWindowBack() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...3).map { Fixtures.message($0) }, snapshot: [1])
        let pending = try store.pendingMessages(afterSeq: 0, limit: 3)
        // The second record's insert fails (as a full disk would), after the first one went in.
        try store.database.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log WHEN NEW.outbox_seq = \(pending[1].seq)
                    BEGIN SELECT RAISE(ABORT, 'no space'); END
                    """)
        }
        let audited = pending.map {
            AuditedDelivery(
                seq: $0.seq, streamSequence: nil, subject: $0.subject, messageID: $0.messageID,
                payloadSHA256: AuditRecord.sha256($0.payload))
        }
        #expect(throws: OutboxError.self) { try store.markDelivered(audited: audited, at: clock.now) }
        #expect(try store.stats().delivered == 0)
        #expect(try store.auditRecords(afterSequence: 0, limit: 10).isEmpty)
        #expect(try store.auditHead() == nil)
    }
}
