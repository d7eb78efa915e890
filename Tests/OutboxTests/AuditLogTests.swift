import Foundation
import GRDB
import Testing
import WireContract

@testable import Outbox

struct AuditLogTests {
    /// Journals `count` messages and marks them delivered with audit data, in batches of `batch`.
    private func deliver(_ store: OutboxStore, count: Int, batch: Int = 4, clock: TestClock) throws -> [OutboxMessage] {
        try store.appendDetection(messages: (1...count).map { Fixtures.message($0) }, snapshot: [1])
        let pending = try store.pendingMessages(afterSeq: 0, limit: count)
        var stream: UInt64 = 100
        for chunk in stride(from: 0, to: pending.count, by: batch) {
            let slice = pending[chunk..<min(chunk + batch, pending.count)]
            let audited = slice.map { message -> AuditedDelivery in
                stream += 1
                return AuditedDelivery(
                    seq: message.seq, streamSequence: stream, subject: message.subject, messageID: message.messageID,
                    payloadSHA256: AuditRecord.sha256(message.payload + [0xAA]))
            }
            try store.markDelivered(audited: audited, at: clock.now)
            clock.advance(by: 1000)
        }
        return pending
    }

    @Test func everyAcknowledgedMessageIsChainedAndTheChainVerifies() throws {
        let (directory, clock, store) = try Fixtures.openFresh()
        defer { withExtendedLifetime(directory) {} }
        #expect(try store.auditHead() == nil)
        let messages = try self.deliver(store, count: 10, clock: clock)

        let records = try store.auditRecords(afterSequence: 0, limit: 100)
        #expect(records.map(\.sequence) == Array(1...10))
        #expect(records.map(\.outboxSeq) == messages.map(\.seq))
        #expect(records.map(\.messageID) == messages.map(\.messageID))
        #expect(records.map(\.streamSequence) == (101...110).map { UInt64($0) })
        #expect(records[0].previousHash == AuditRecord.genesisHash)
        #expect(records[3].payloadSHA256 == AuditRecord.sha256(messages[3].payload + [0xAA]))
        for index in 1..<records.count { #expect(records[index].previousHash == records[index - 1].hash) }
        #expect(try store.auditHead() == AuditHead(sequence: 10, hash: records[9].hash))
        #expect(try store.stats().delivered == 10)

        let verification = try store.verifyAudit(pageSize: 3)
        #expect(verification.isIntact)
        #expect(verification.verifiedRecords == 10)
        #expect(verification.lastVerified == AuditHead(sequence: 10, hash: records[9].hash))

        // A second acknowledgement of rows already delivered records nothing more.
        let again = messages[2...4].map {
            AuditedDelivery(
                seq: $0.seq, streamSequence: nil, subject: $0.subject, messageID: $0.messageID,
                payloadSHA256: AuditRecord.sha256($0.payload))
        }
        #expect(try store.markDelivered(audited: Array(again), at: clock.now)?.sequence == 10)
        #expect(try store.auditRecords(afterSequence: 0, limit: 100).count == 10)
    }

    @Test func onlyRowsNotYetDeliveredInARunAreRecorded() throws {
        let (directory, clock, store) = try Fixtures.openFresh()
        defer { withExtendedLifetime(directory) {} }
        try store.appendDetection(messages: (1...5).map { Fixtures.message($0) }, snapshot: [1])
        let pending = try store.pendingMessages(afterSeq: 0, limit: 5)
        try store.markDelivered([(pending[1].seq, 7)], at: clock.now)
        let audited = pending.map {
            AuditedDelivery(
                seq: $0.seq, streamSequence: nil, subject: $0.subject, messageID: $0.messageID,
                payloadSHA256: AuditRecord.sha256($0.payload))
        }
        try store.markDelivered(audited: audited, at: clock.now)
        let records = try store.auditRecords(afterSequence: 0, limit: 10)
        #expect(records.map(\.outboxSeq) == [pending[0].seq, pending[2].seq, pending[3].seq, pending[4].seq])
        #expect(try store.verifyAudit().isIntact)
    }

    @Test func anEditedRecordIsTheFirstBreak() throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        _ = try self.deliver(store, count: 8, clock: clock)
        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(sql: "UPDATE audit_log SET subject = 'wazuh.agent.999.status' WHERE seq = 5")
        }
        let edited = try store.verifyAudit()
        #expect(edited.firstBreak == .init(sequence: 5, expectedSequence: 5, problem: .hashMismatch))
        #expect(edited.verifiedRecords == 4)

        // Recomputing the edited record's hash only moves the break to the next record.
        let record = try #require(try store.auditRecords(afterSequence: 4, limit: 1).first)
        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(
                sql: "UPDATE audit_log SET hash = ? WHERE seq = 5", arguments: [Data(record.computedHash())])
        }
        #expect(try store.verifyAudit().firstBreak?.problem == .previousHashMismatch)
        #expect(try store.verifyAudit().firstBreak?.sequence == 6)
    }

    /// A way of rewriting the audit history and the first break verification must then report.
    struct Tampering: Sendable, CustomTestStringConvertible {
        var name: String
        var sql: [String]
        var firstBreak: AuditChainVerifier.Break?
        /// When the whole break is not pinned down: its sequence and problem.
        var breakSequence: Int64
        var problem: AuditChainVerifier.Problem
        /// The last record verified before the break, when the test pins it down.
        var lastVerified: Int64?

        var testDescription: String { self.name }

        static let all: [Tampering] = [
            Tampering(
                name: "a changed hash", sql: ["UPDATE audit_log SET hash = zeroblob(32) WHERE seq = 3"],
                firstBreak: .init(sequence: 3, expectedSequence: 3, problem: .hashMismatch), breakSequence: 3,
                problem: .hashMismatch),
            Tampering(
                name: "a deleted record is a gap", sql: ["DELETE FROM audit_log WHERE seq = 4"],
                firstBreak: .init(sequence: 5, expectedSequence: 4, problem: .sequenceGap), breakSequence: 5,
                problem: .sequenceGap, lastVerified: 3),
            // Records 3 and 4 swapped wholesale, renumbered so the sequence has no gap.
            Tampering(
                name: "reordered records",
                sql: [
                    "UPDATE audit_log SET seq = -3 WHERE seq = 3", "UPDATE audit_log SET seq = 3 WHERE seq = 4",
                    "UPDATE audit_log SET seq = 4 WHERE seq = -3",
                ], breakSequence: 3, problem: .previousHashMismatch),
        ]
    }

    @Test(arguments: Tampering.all)
    func tamperingIsDetected(_ tampering: Tampering) throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        _ = try self.deliver(store, count: 8, clock: clock)
        try Fixtures.withConnection(dir.outboxPath) { db in
            for sql in tampering.sql {
                try db.execute(sql: sql)
            }
        }
        let verification = try store.verifyAudit()
        if let firstBreak = tampering.firstBreak {
            #expect(verification.firstBreak == firstBreak)
        }
        #expect(verification.firstBreak?.sequence == tampering.breakSequence)
        #expect(verification.firstBreak?.problem == tampering.problem)
        if let lastVerified = tampering.lastVerified {
            #expect(verification.lastVerified?.sequence == lastVerified)
        }
    }

    @Test func pruningKeepsTheRestVerifiableFromTheAnchor() throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        let start = clock.now
        _ = try self.deliver(store, count: 12, batch: 3, clock: clock)
        let before = try store.auditRecords(afterSequence: 0, limit: 100)
        // Records are stamped start, +1s, +2s, +3s (three per batch); the outbox rows all at start.
        #expect(try store.prune(olderThan: start + 1500, maxBytes: nil) == 12)
        let anchor = try #require(try store.auditAnchor())
        #expect(anchor == AuditHead(sequence: 6, hash: before[5].hash))
        let kept = try store.auditRecords(afterSequence: 0, limit: 100)
        #expect(kept.map(\.sequence) == Array(7...12))
        let verification = try store.verifyAudit()
        #expect(verification.isIntact && verification.verifiedRecords == 6 && verification.anchor == anchor)

        // Everything pruned: the head is the anchor, and new records continue the same chain.
        #expect(try store.prune(olderThan: clock.now + 1, maxBytes: nil) == 0)
        #expect(try store.auditHead() == AuditHead(sequence: 12, hash: before[11].hash))
        try store.appendDetection(messages: [Fixtures.message(40)], snapshot: [2])
        let next = try #require(try store.pendingMessages(afterSeq: 0, limit: 1).first)
        try store.markDelivered(
            audited: [
                AuditedDelivery(
                    seq: next.seq, streamSequence: 500, subject: next.subject, messageID: next.messageID,
                    payloadSHA256: AuditRecord.sha256(next.payload))
            ], at: clock.now)
        let continued = try store.auditRecords(afterSequence: 0, limit: 10)
        #expect(continued.map(\.sequence) == [13] && continued[0].previousHash == before[11].hash)
        #expect(try store.verifyAudit().isIntact)

        // Tampering with the anchor cannot go unnoticed either.
        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(
                sql: "UPDATE meta SET value = ? WHERE key = 'audit_anchor'",
                arguments: ["12:" + String(repeating: "ab", count: 32)])
        }
        #expect(try store.verifyAudit().firstBreak?.problem == .previousHashMismatch)
    }

    @Test func theReadOnlyReaderVerifiesAndExports() throws {
        let (dir, clock, store) = try Fixtures.openFresh()
        _ = try self.deliver(store, count: 6, batch: 2, clock: clock)
        let reader = try OutboxReader(path: dir.outboxPath)
        defer { try? reader.close() }
        #expect(try reader.verifyAudit().verifiedRecords == 6)
        #expect(try reader.auditHead()?.sequence == 6)
        let window = try reader.auditRecords(
            afterSequence: 0, recordedFrom: clock.now - 2000, recordedBefore: clock.now - 1000, limit: 10)
        #expect(window.map(\.sequence) == [3, 4])
    }
}
