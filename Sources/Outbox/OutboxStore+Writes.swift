import Foundation
import GRDB

extension OutboxStore {
    /// Journals one detection cycle atomically: inserts `messages` (a `messageID` already present is
    /// skipped, so journaling the same event twice is a no-op) and replaces the source snapshot, in ONE
    /// transaction. Either both happen or neither does.
    ///
    /// `meta` entries (e.g. the anomaly detector's state) are written in the same transaction.
    ///
    /// - Returns: how many messages were new.
    @discardableResult
    public func appendDetection(
        messages: [NewOutboxMessage], snapshot: [UInt8], meta: [String: String] = [:]
    ) throws(OutboxError) -> Int {
        try self.appendDetection(messages: messages, snapshot: snapshot, meta: MetaUpdate(values: meta))
    }

    /// ``appendDetection(messages:snapshot:meta:)`` with `meta` entries to write and to delete.
    @discardableResult
    public func appendDetection(
        messages: [NewOutboxMessage], snapshot: [UInt8], meta: MetaUpdate
    ) throws(OutboxError) -> Int {
        let createdAt = self.now()
        return try self.run("appendDetection") {
            try self.database.write { db in
                let inserted = try Self.insertMessages(messages, createdAt: createdAt, db: db)
                try self.writeSnapshot(snapshot, at: createdAt, db: db)
                try Self.writeMeta(self.scopedMeta(meta), db: db)
                return inserted
            }
        }
    }

    /// Journals messages that belong to no source read (e.g. an anomaly found between cycles) together
    /// with `meta` entries, in one transaction; the snapshot is left as it is.
    @discardableResult
    public func appendMessages(_ messages: [NewOutboxMessage], meta: [String: String] = [:]) throws(OutboxError)
        -> Int
    {
        try self.appendMessages(messages, meta: MetaUpdate(values: meta))
    }

    /// ``appendMessages(_:meta:)`` with `meta` entries to write and to delete.
    @discardableResult
    public func appendMessages(_ messages: [NewOutboxMessage], meta: MetaUpdate) throws(OutboxError) -> Int {
        let createdAt = self.now()
        return try self.run("appendMessages") {
            try self.database.write { db in
                let inserted = try Self.insertMessages(messages, createdAt: createdAt, db: db)
                try Self.writeMeta(self.scopedMeta(meta), db: db)
                return inserted
            }
        }
    }

    /// The `meta` value under `key`, `nil` when absent.
    public func metaValue(_ key: String) throws(OutboxError) -> String? {
        try self.run("metaValue") {
            try self.reading { db in
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [self.metaKey(key)])
            }
        }
    }

    static func writeMeta(_ entries: [String: String], db: Database) throws {
        guard !entries.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        for (key, value) in entries { try statement.execute(arguments: [key, value]) }
    }

    /// Records the first snapshot of a new journal (no events: nothing changed yet) and notes the
    /// baseline time in `meta`.
    public func recordBaseline(snapshot: [UInt8]) throws(OutboxError) {
        let at = self.now()
        try self.run("recordBaseline") {
            try self.database.write { db in
                try self.writeSnapshot(snapshot, at: at, db: db)
                try Self.writeMeta([self.metaKey("baseline_recorded_at"): String(at)], db: db)
            }
        }
    }

    /// Marks rows acknowledged by the server, in one transaction, recording the JetStream stream sequence
    /// when known. Rows already delivered keep their first acknowledgement.
    ///
    /// Runs of consecutive rows whose stream sequences are also consecutive (the usual case: one publisher
    /// in journal order) are recorded as one delivered window each, moving the delivered watermark, when
    /// nothing before them is pending (``recordDelivered(_:at:db:marked:)``); any other run is written on
    /// its rows. Only the rows listed are ever marked.
    public func markDelivered(_ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64) throws(OutboxError) {
        if seqs.isEmpty { return }
        try self.run("markDelivered") {
            try self.database.write { db in
                try Self.recordDelivered(seqs, at: at, db: db, marked: { _ in })
            }
        }
    }

    /// A run of rows `first...last` whose stream sequences start at `firstStreamSequence` and rise by one per
    /// row (all `nil` when unknown).
    struct DeliveredRun: Equatable {
        var first: Int64
        var last: Int64
        var firstStreamSequence: Int64?
    }

    /// Splits acknowledgements (in any order) into runs of consecutive rows with consecutive stream sequences.
    static func consecutiveRuns(_ seqs: [(seq: Int64, streamSequence: UInt64?)]) -> [DeliveredRun] {
        var runs: [DeliveredRun] = []
        var previousStream: Int64?
        for item in seqs {
            // A stream sequence beyond Int64 cannot be stored: the row is marked with none.
            let stream = item.streamSequence.flatMap { Int64(exactly: $0) }
            let streamContinues =
                stream == nil ? runs.last?.firstStreamSequence == nil : previousStream.map({ $0 &+ 1 }) == stream
            if var run = runs.last, item.seq == run.last &+ 1, streamContinues {
                run.last = item.seq
                runs[runs.count - 1] = run
            } else {
                runs.append(DeliveredRun(first: item.seq, last: item.seq, firstStreamSequence: stream))
            }
            previousStream = stream
        }
        return runs
    }

    /// Records a failed delivery attempt: `attempts += 1`, the error text and when to retry.
    ///
    /// `error` must not contain secrets; it is shown by `outbox list`.
    public func recordFailure(seq: Int64, error: String, nextAttemptAt: Int64?) throws(OutboxError) {
        try self.run("recordFailure") {
            try self.database.write { db in
                try db.execute(
                    sql: """
                        UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
                        WHERE seq = ? AND NOT \(Self.deliveredSQL)
                        """,
                    arguments: [error, nextAttemptAt, seq])
            }
        }
    }

    /// Parks a row the server will never accept (e.g. payload too large): it is no longer pending, is
    /// never retried and never pruned, and is counted by ``parkedCount()``.
    public func park(seq: Int64, error: String) throws(OutboxError) {
        let at = self.now()
        try self.run("park") {
            try self.database.write { db in
                try db.execute(
                    sql: """
                        UPDATE outbox SET parked_at = ?, last_error = ?, attempts = attempts + 1,
                            next_attempt_at = NULL
                        WHERE seq = ? AND delivered_at IS NULL AND parked_at IS NULL AND seq > \(Self.watermarkSQL)
                        """,
                    arguments: [at, error, seq])
            }
        }
    }

    /// Makes a parked row pending again (operator action after fixing the cause).
    ///
    /// - Returns: whether a parked row with that `seq` existed.
    @discardableResult
    public func unpark(seq: Int64) throws(OutboxError) -> Bool {
        try self.run("unpark") {
            try self.database.write { db in
                let parked = try Bool.fetchOne(
                    db, sql: "SELECT 1 FROM outbox WHERE seq = ? AND parked_at IS NOT NULL", arguments: [seq])
                if parked == true { try Self.lowerWatermark(below: seq, db: db) }
                try db.execute(
                    sql:
                        "UPDATE outbox SET parked_at = NULL, next_attempt_at = NULL WHERE seq = ? AND parked_at IS NOT NULL",
                    arguments: [seq])
                return db.changesCount > 0
            }
        }
    }

    /// Deletes DELIVERED rows created before `olderThan` (epoch ms) and then, while the database's used
    /// size is above `maxBytes`, further delivered rows oldest first. Pending and parked rows are never
    /// deleted, even if the cap cannot be met. Freed pages are returned to the file system.
    /// Audit records go with them, always as a prefix of the chain: those recorded before `olderThan`,
    /// and those of rows deleted for size; the last one deleted stays as the chain's anchor.
    ///
    /// - Returns: how many outbox rows were deleted.
    @discardableResult
    public func prune(olderThan: Int64, maxBytes: Int64?) throws(OutboxError) -> Int {
        try self.run("prune") {
            var deleted = try self.database.write { db in
                try db.execute(
                    sql: "DELETE FROM outbox WHERE \(Self.deliveredSQL) AND parked_at IS NULL AND created_at < ?",
                    arguments: [olderThan])
                let deleted = db.changesCount
                try Self.pruneWindows(db)
                // The audit log keeps the same retention, cut as a prefix so the rest stays a chain.
                _ = try Self.pruneAudit(
                    db,
                    throughSequence: try Int64.fetchOne(
                        db, sql: "SELECT max(seq) FROM audit_log WHERE recorded_at < ?", arguments: [olderThan]))
                return deleted
            }
            if let maxBytes {
                while try self.usedBytes() > maxBytes {
                    let removed = try self.database.write { db in
                        let lastRemoved = try Int64.fetchOne(
                            db,
                            sql: """
                                SELECT max(seq) FROM (
                                    SELECT seq FROM outbox WHERE \(Self.deliveredSQL) AND parked_at IS NULL
                                    ORDER BY seq LIMIT 500)
                                """)
                        try db.execute(
                            sql: """
                                DELETE FROM outbox WHERE seq IN (
                                    SELECT seq FROM outbox WHERE \(Self.deliveredSQL) AND parked_at IS NULL
                                    ORDER BY seq LIMIT 500)
                                """)
                        let removed = db.changesCount
                        try Self.pruneWindows(db)
                        if let lastRemoved {
                            _ = try Self.pruneAudit(
                                db,
                                throughSequence: try Int64.fetchOne(
                                    db, sql: "SELECT max(seq) FROM audit_log WHERE outbox_seq <= ?",
                                    arguments: [lastRemoved]))
                        }
                        return removed
                    }
                    if removed == 0 { break }
                    deleted += removed
                }
            }
            if deleted > 0 {
                try self.database.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA incremental_vacuum")
                    _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                }
                self.logger.debug("outbox pruned", metadata: ["outbox.pruned_rows": "\(deleted)"])
            }
            return deleted
        }
    }

    /// Pages in use in the database, in bytes (file size minus free pages; the WAL not counted).
    func usedBytes() throws -> Int64 {
        try self.reading { db in
            let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            return (pages - free) * pageSize
        }
    }

    /// Inserts `messages` with `createdAt` in the caller's transaction; a message id already journaled is
    /// skipped. Returns how many were new.
    private static func insertMessages(_ messages: [NewOutboxMessage], createdAt: Int64, db: Database) throws -> Int {
        let insert = try db.cachedStatement(
            sql: """
                INSERT INTO outbox (message_id, event_id, kind, subject, agent_id, payload, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (message_id) DO NOTHING
                """)
        var inserted = 0
        for message in messages {
            try insert.execute(arguments: [
                message.messageID, message.eventID, message.kind.rawValue, message.subject, message.agentID,
                Data(message.payload), createdAt,
            ])
            inserted += db.changesCount
        }
        return inserted
    }
}
