import Foundation
import GRDB

extension OutboxStore {
    private static let columns = """
        seq, message_id, event_id, kind, subject, agent_id, payload, created_at,
        attempts, last_error,
        CASE WHEN \(OutboxStore.deliveredInWindowSQL) THEN NULL ELSE next_attempt_at END AS next_attempt_at,
        \(OutboxStore.deliveredAtSQL) AS delivered_at,
        \(OutboxStore.streamSequenceSQL) AS stream_seq, parked_at
        """

    /// The source snapshot last journaled, or `nil` for a new journal (the gateway must baseline).
    public func loadSnapshot() throws(OutboxError) -> [UInt8]? {
        try self.run("loadSnapshot") {
            try self.reading { db in
                try self.readSnapshot(db: db)
            }
        }
    }

    /// When ``recordBaseline(snapshot:)`` last ran (epoch ms), `nil` if never.
    public func baselineRecordedAt() throws(OutboxError) -> Int64? {
        try self.run("baselineRecordedAt") {
            try self.reading { db in
                try String.fetchOne(
                    db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [self.metaKey("baseline_recorded_at")]
                )
                .flatMap { Int64($0) }
            }
        }
    }

    /// Up to `limit` undelivered, unparked messages with `seq > afterSeq`, in journal order.
    ///
    /// Ignores `next_attempt_at`: the delivery worker resends in order and owns its backoff.
    public func pendingMessages(afterSeq: Int64, limit: Int) throws(OutboxError) -> [OutboxMessage] {
        guard limit >= 0 else { throw OutboxError(code: .invalidArgument, path: self.path, message: "negative limit") }
        return try self.run("pendingMessages") {
            try self.reading { db in
                // Only the columns a message needs, read by position (the delivery worker pages through
                // every row this way).
                let statement = try db.cachedStatement(
                    sql: """
                        SELECT seq, message_id, event_id, kind, subject, agent_id, payload, created_at
                        FROM outbox INDEXED BY outbox_pending
                        WHERE delivered_at IS NULL AND parked_at IS NULL AND seq > ?
                        ORDER BY seq LIMIT ?
                        """)
                let after = max(afterSeq, try Self.deliveredThrough(db))
                let rows = try Row.fetchCursor(statement, arguments: [after, limit])
                var messages = [OutboxMessage]()
                messages.reserveCapacity(min(limit, 4096))
                while let row = try rows.next() {
                    let kindText: String = row[3]
                    guard let kind = OutboxMessageKind(rawValue: kindText) else {
                        throw OutboxError(code: .database, path: "", message: "unknown kind \(kindText) in outbox row")
                    }
                    let payload = try row.withUnsafeData(atIndex: 6) { data in data.map { [UInt8]($0) } ?? [] }
                    messages.append(
                        OutboxMessage(
                            seq: row[0], messageID: row[1], eventID: row[2], kind: kind, subject: row[4],
                            agentID: row[5], payload: payload, createdAt: row[7]))
                }
                return messages
            }
        }
    }

    /// How many messages are neither delivered nor parked.
    public func pendingCount() throws(OutboxError) -> Int {
        try self.run("pendingCount") {
            try self.reading { db in try Self.pendingCount(db) }
        }
    }

    /// `created_at` of the first pending message in journal order (epoch ms), `nil` when none is pending.
    ///
    /// Journal order follows the clock, so this is the oldest pending message unless the wall clock was
    /// set back; taking the first by `seq` keeps the query O(1) with a million pending rows.
    public func oldestPendingCreatedAt() throws(OutboxError) -> Int64? {
        try self.run("oldestPendingCreatedAt") {
            try self.reading { db in
                try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT created_at FROM outbox INDEXED BY outbox_pending
                        WHERE delivered_at IS NULL AND parked_at IS NULL AND seq > ? ORDER BY seq LIMIT 1
                        """,
                    arguments: [try Self.deliveredThrough(db)])
            }
        }
    }

    /// How many messages are parked.
    public func parkedCount() throws(OutboxError) -> Int {
        try self.run("parkedCount") {
            try self.reading { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL") ?? 0
            }
        }
    }

    /// Journaled messages matching `query`, in `seq` order (for `replay`).
    public func messages(matching query: OutboxQuery) throws(OutboxError) -> [OutboxMessage] {
        try self.entries(matching: query).map(\.message)
    }

    /// Journal rows with their delivery state matching `query`, in `seq` order (for `outbox list`).
    public func entries(matching query: OutboxQuery) throws(OutboxError) -> [OutboxEntry] {
        guard query.limit >= 0 else {
            throw OutboxError(code: .invalidArgument, path: self.path, message: "negative limit")
        }
        var conditions = [String]()
        var arguments = StatementArguments()
        if let value = query.createdFrom {
            conditions.append("created_at >= ?")
            arguments += [value]
        }
        if let value = query.createdBefore {
            conditions.append("created_at < ?")
            arguments += [value]
        }
        if let value = query.agentID {
            conditions.append("agent_id = ?")
            arguments += [value]
        }
        if let value = query.seqFrom {
            conditions.append("seq >= ?")
            arguments += [value]
        }
        if let value = query.seqThrough {
            conditions.append("seq <= ?")
            arguments += [value]
        }
        if let value = query.afterSeq {
            conditions.append("seq > ?")
            arguments += [value]
        }
        if query.deliveredOnly {
            conditions.append(Self.deliveredSQL)
        }
        if let kinds = query.kinds {
            if kinds.isEmpty { return [] }
            let sorted = kinds.map(\.rawValue).sorted()
            conditions.append("kind IN (\(sorted.map { _ in "?" }.joined(separator: ", ")))")
            for kind in sorted { arguments += [kind] }
        }
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments += [query.limit]
        let sql = "SELECT \(Self.columns) FROM outbox \(whereClause) ORDER BY seq LIMIT ?"
        let boundArguments = arguments
        return try self.run("entries") {
            try self.reading { db in
                let rows = try Row.fetchCursor(db, sql: sql, arguments: boundArguments)
                var entries = [OutboxEntry]()
                while let row = try rows.next() { entries.append(try Self.entry(row)) }
                return entries
            }
        }
    }

    /// How many rows are pending, in the caller's transaction (above the watermark: proportional to
    /// the pending rows, not to the journal).
    static func pendingCount(_ db: Database) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT count(*) FROM outbox INDEXED BY outbox_pending
                WHERE delivered_at IS NULL AND parked_at IS NULL AND seq > ?
                """,
            arguments: [try Self.deliveredThrough(db)]) ?? 0
    }

    /// Counts, oldest pending age and database size.
    public func stats() throws(OutboxError) -> OutboxStats {
        let now = self.now()
        let counts = try self.run("stats") {
            try self.reading { db in
                let pending = try Self.pendingCount(db)
                // Delivered on their rows, plus delivered under the watermark: both counted from a partial
                // index, never the table.
                let deliveredOnRows =
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") ?? 0
                let deliveredInWindows =
                    try Int.fetchOne(
                        db,
                        sql: """
                            SELECT count(*) FROM outbox INDEXED BY outbox_pending
                            WHERE delivered_at IS NULL AND parked_at IS NULL AND seq <= ?
                            """,
                        arguments: [try Self.deliveredThrough(db)]) ?? 0
                let delivered = deliveredOnRows + deliveredInWindows
                let parked = try Int.fetchOne(db, sql: "SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL") ?? 0
                let lastSeq =
                    try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'") ?? 0
                return (pending, delivered, parked, lastSeq)
            }
        }
        let oldest = try self.oldestPendingCreatedAt()
        return OutboxStats(
            pending: counts.0, delivered: counts.1, parked: counts.2, oldestPendingCreatedAt: oldest,
            oldestPendingAgeSeconds: oldest.map { max(0, now - $0) / 1000 }, lastSeq: counts.3,
            databaseBytes: Self.fileSize(self.path) + Self.fileSize(self.path + "-wal"))
    }

    private static func fileSize(_ path: String) -> Int64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.int64Value ?? 0
    }

    private static func entry(_ row: Row) throws -> OutboxEntry {
        let kindText: String = row["kind"]
        guard let kind = OutboxMessageKind(rawValue: kindText) else {
            throw OutboxError(code: .database, path: "", message: "unknown kind \(kindText) in outbox row")
        }
        let payload: Data = row["payload"]
        let streamSequence: Int64? = row["stream_seq"]
        let message = OutboxMessage(
            seq: row["seq"], messageID: row["message_id"], eventID: row["event_id"], kind: kind,
            subject: row["subject"], agentID: row["agent_id"], payload: [UInt8](payload), createdAt: row["created_at"])
        return OutboxEntry(
            message: message, attempts: row["attempts"], lastError: row["last_error"],
            nextAttemptAt: row["next_attempt_at"], deliveredAt: row["delivered_at"],
            streamSequence: streamSequence.flatMap { UInt64(exactly: $0) }, parkedAt: row["parked_at"])
    }

    /// The `PRAGMA journal_mode` and `PRAGMA synchronous` (0 off, 1 normal, 2 full) of the open database.
    public func pragmas() throws(OutboxError) -> (journalMode: String, synchronous: Int) {
        try self.run("pragmas") {
            try self.reading { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
                let synchronous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
                return (mode, synchronous)
            }
        }
    }
}
