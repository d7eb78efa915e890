import Foundation
import GRDB
import WireContract

/// A message the server acknowledged, with what the audit log records about it.
public struct AuditedDelivery: Sendable, Hashable {
    /// The outbox row (0 for a heartbeat, which is never journaled).
    public var seq: Int64
    public var streamSequence: UInt64?
    public var subject: String
    /// The `Nats-Msg-Id` sent.
    public var messageID: String
    /// SHA-256 of the exact payload bytes sent.
    public var payloadSHA256: [UInt8]
    public var kind: AuditRecord.Kind

    public init(
        seq: Int64, streamSequence: UInt64?, subject: String, messageID: String, payloadSHA256: [UInt8],
        kind: AuditRecord.Kind = .delivery
    ) {
        self.kind = kind
        self.seq = seq
        self.streamSequence = streamSequence
        self.subject = subject
        self.messageID = messageID
        self.payloadSHA256 = payloadSHA256
    }
}

extension OutboxStore {
    static let auditAnchorKey = "audit_anchor"

    /// Marks rows delivered exactly as ``markDelivered(_:at:)`` does and, in the same transaction,
    /// appends one chained ``AuditRecord`` per row that this call marked (a row already delivered keeps
    /// its first acknowledgement and gets no second record).
    ///
    /// Cost per transaction: one head lookup and the watermark; per run of consecutive rows one count
    /// and one window row (or, out of journal order, one range `UPDATE`); per row one hash and one
    /// audit `INSERT`.
    ///
    /// - Returns: the chain head after the transaction, `nil` when the chain is empty.
    @discardableResult
    public func markDelivered(audited deliveries: [AuditedDelivery], at: Int64) throws(OutboxError) -> AuditHead? {
        if deliveries.isEmpty { return try self.auditHead() }
        return try self.run("markDelivered") {
            try self.database.write { db in
                var appender = try AuditAppender(
                    db, after: try Self.auditHead(db) ?? AuditHead(sequence: 0, hash: AuditRecord.genesisHash))
                let pairs = deliveries.map { (seq: $0.seq, streamSequence: $0.streamSequence) }
                try Self.recordDelivered(pairs, at: at, db: db) { position in
                    try appender.append(deliveries[position], at: at)
                }
                let head = try appender.finish()
                return head.sequence == 0 ? nil : head
            }
        }
    }

    /// Appends one chained record per acknowledged message that marks no row delivered — heartbeats,
    /// replayed copies — in one transaction; returns the new head (the current one for no messages).
    @discardableResult
    public func appendAudit(_ acknowledged: [AuditedDelivery], at: Int64) throws(OutboxError) -> AuditHead? {
        if acknowledged.isEmpty { return try self.auditHead() }
        return try self.run("appendAudit") {
            try self.database.write { db in
                var appender = try AuditAppender(
                    db, after: try Self.auditHead(db) ?? AuditHead(sequence: 0, hash: AuditRecord.genesisHash))
                for item in acknowledged { try appender.append(item, at: at) }
                return try appender.finish()
            }
        }
    }

    /// The latest audit record's sequence and hash (the anchor's when every record was pruned), `nil`
    /// when nothing was ever recorded.
    public func auditHead() throws(OutboxError) -> AuditHead? {
        try self.run("auditHead") { try self.reading { db in try Self.auditHead(db) } }
    }

    /// The last pruned record's sequence and hash: where verification of the kept records starts.
    public func auditAnchor() throws(OutboxError) -> AuditHead? {
        try self.run("auditAnchor") { try self.reading { db in try Self.auditAnchor(db) } }
    }

    /// Up to `limit` audit records with sequence above `afterSequence`, optionally only those recorded
    /// in `[recordedFrom, recordedBefore)` (epoch ms), in sequence order.
    public func auditRecords(
        afterSequence: Int64, recordedFrom: Int64? = nil, recordedBefore: Int64? = nil, limit: Int
    ) throws(OutboxError) -> [AuditRecord] {
        try self.run("auditRecords") {
            try self.reading { db in
                // A journal from before the record kinds (opened read-only, not migrated) has deliveries only.
                let kind = try db.columns(in: "audit_log").contains { $0.name == "kind" } ? "kind" : "'delivery'"
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT seq, recorded_at, outbox_seq, subject, message_id, stream_seq, payload_sha256,
                            prev_hash, hash, \(kind)
                        FROM audit_log WHERE seq > ? AND recorded_at >= ? AND recorded_at < ?
                        ORDER BY seq LIMIT ?
                        """,
                    arguments: [afterSequence, recordedFrom ?? Int64.min, recordedBefore ?? Int64.max, limit])
                var records = [AuditRecord]()
                while let row = try rows.next() {
                    let stream: Int64? = row[5]
                    let payload: Data = row[6]
                    let previous: Data = row[7]
                    let hash: Data = row[8]
                    let kind: String = row[9]
                    records.append(
                        AuditRecord(
                            sequence: row[0], recordedAt: row[1], outboxSeq: row[2], subject: row[3],
                            messageID: row[4], streamSequence: stream.flatMap { UInt64(exactly: $0) },
                            payloadSHA256: [UInt8](payload), previousHash: [UInt8](previous), hash: [UInt8](hash),
                            // An unknown kind cannot verify as a delivery: it shows as a break, never passes.
                            kind: AuditRecord.Kind(rawValue: kind) ?? .replay))
                }
                return records
            }
        }
    }

    static func auditHead(_ db: Database) throws -> AuditHead? {
        if let row = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1") {
            let hash: Data = row[1]
            return AuditHead(sequence: row[0], hash: [UInt8](hash))
        }
        return try self.auditAnchor(db)
    }

    static func auditAnchor(_ db: Database) throws -> AuditHead? {
        guard
            let text = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [auditAnchorKey])
        else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let sequence = Int64(parts[0]), let hash = Hex.decode(parts[1]), hash.count == 32 else {
            throw OutboxError(code: .database, path: "", message: "meta \(auditAnchorKey) is malformed: \(text)")
        }
        return AuditHead(sequence: sequence, hash: hash)
    }

    /// Deletes the audit records up to and including `throughSequence`, keeping the last one deleted as
    /// the anchor. Returns how many were deleted.
    static func pruneAudit(_ db: Database, throughSequence: Int64?) throws -> Int {
        guard let throughSequence,
            let row = try Row.fetchOne(
                db, sql: "SELECT seq, hash FROM audit_log WHERE seq = ?", arguments: [throughSequence])
        else { return 0 }
        let hash: Data = row[1]
        let sequence: Int64 = row[0]
        try db.execute(
            sql: """
                INSERT INTO meta (key, value) VALUES (?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """,
            arguments: [auditAnchorKey, "\(sequence):\(Hex.encode(hash))"])
        try db.execute(sql: "DELETE FROM audit_log WHERE seq <= ?", arguments: [sequence])
        return db.changesCount
    }
}

/// What ``OutboxStore/verifyAudit(pageSize:)`` found.
public struct AuditVerification: Sendable, Hashable {
    /// Where the kept records start: the last pruned record, `nil` when nothing was ever pruned.
    public var anchor: AuditHead?
    /// The last record accepted before the break (or the end).
    public var lastVerified: AuditHead?
    /// How many records were checked and found intact.
    public var verifiedRecords: Int
    /// The first record that breaks the chain, `nil` when the whole chain holds.
    public var firstBreak: AuditChainVerifier.Break?

    public var isIntact: Bool { self.firstBreak == nil }
}

extension OutboxStore {
    /// Walks the whole audit chain from its anchor in pages of `pageSize` records and reports the first
    /// break.
    public func verifyAudit(pageSize: Int = 2000) throws(OutboxError) -> AuditVerification {
        let anchor = try self.auditAnchor()
        var verifier = AuditChainVerifier(
            anchorSequence: anchor?.sequence ?? 0, anchorHash: anchor?.hash ?? AuditRecord.genesisHash)
        var after = Int64.min
        pages: while true {
            let page = try self.auditRecords(afterSequence: after, limit: max(1, pageSize))
            for record in page {
                if verifier.check(record) != nil { break pages }
            }
            guard let last = page.last else { break }
            after = last.sequence
        }
        return AuditVerification(
            anchor: anchor,
            lastVerified: verifier.checked > 0
                ? AuditHead(sequence: verifier.lastSequence, hash: verifier.lastHash) : anchor,
            verifiedRecords: verifier.checked, firstBreak: verifier.firstBreak)
    }
}
