import Foundation
import GRDB
import Testing
import WireContract

@testable import Outbox

/// Heartbeats and replayed copies join the same audit chain as deliveries, each record saying its kind.
struct AuditRecordKindTests {
    @Test func heartbeatsAndReplaysAreChainedBetweenDeliveriesWithTheirKind() throws {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        let store = try Fixtures.open(dir, clock: clock)
        try store.appendDetection(messages: (1...2).map { Fixtures.message($0) }, snapshot: [1])
        let pending = try store.pendingMessages(afterSeq: 0, limit: 10)
        func delivery(_ message: OutboxMessage, kind: AuditRecord.Kind = .delivery, id: String? = nil)
            -> AuditedDelivery
        {
            AuditedDelivery(
                seq: message.seq, streamSequence: 7, subject: message.subject, messageID: id ?? message.messageID,
                payloadSHA256: AuditRecord.sha256(message.payload), kind: kind)
        }
        try store.markDelivered(audited: [delivery(pending[0])], at: clock.now)
        let heartbeat = AuditedDelivery(
            seq: 0, streamSequence: nil, subject: "wazuh.manager.mgr.heartbeat", messageID: "heartbeat:mgr:1",
            payloadSHA256: AuditRecord.sha256([1, 2, 3]), kind: .heartbeat)
        let afterHeartbeat = try store.appendAudit([heartbeat], at: clock.now)
        try store.appendAudit([delivery(pending[0], kind: .replay, id: "x:replay:r1")], at: clock.now)
        try store.markDelivered(audited: [delivery(pending[1])], at: clock.now)

        let records = try store.auditRecords(afterSequence: 0, limit: 10)
        #expect(records.map(\.kind) == [.delivery, .heartbeat, .replay, .delivery])
        #expect(records[1].outboxSeq == 0 && records[1].messageID == "heartbeat:mgr:1")
        #expect(afterHeartbeat == AuditHead(sequence: 2, hash: records[1].hash))
        #expect(records[2].outboxSeq == pending[0].seq && records[2].messageID == "x:replay:r1")
        #expect(try store.verifyAudit().isIntact)
        #expect(records[1].jsonObject["kind"] == .string("heartbeat"))
        // The kind is covered by the hash: a heartbeat relabelled as a delivery breaks the chain there.
        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(sql: "UPDATE audit_log SET kind = 'delivery' WHERE seq = 2")
        }
        #expect(try store.verifyAudit().firstBreak?.sequence == 2)
    }

    @Test func aDeliveryRecordHashesAsBeforeKindsExisted() {
        let record = AuditRecord.chained(
            sequence: 1, recordedAt: 5, outboxSeq: 9, subject: "s", messageID: "m", streamSequence: 3,
            payloadSHA256: Array(repeating: 1, count: 32), previousHash: AuditRecord.genesisHash)
        var heartbeat = record
        heartbeat.kind = .heartbeat
        #expect(heartbeat.computedHash() != record.hash)
        // The pre-1.2 layout, spelled out: a delivery's hash did not change.
        var bytes = AuditRecord.genesisHash
        for value: UInt64 in [1, 5, 9] { bytes += withUnsafeBytes(of: value.bigEndian) { Array($0) } }
        bytes += [1] + withUnsafeBytes(of: UInt64(3).bigEndian) { Array($0) }
        for text in ["s", "m"] {
            bytes += withUnsafeBytes(of: UInt32(text.utf8.count).bigEndian) { Array($0) } + Array(text.utf8)
        }
        bytes += Array(repeating: 1, count: 32)
        #expect(record.hash == AuditRecord.sha256(bytes))
    }
}
