import GRDB

/// Delivery state as a watermark (migration `v006_delivery_watermark`).
///
/// The worker delivers in journal order, so an acknowledged window of consecutive rows whose earlier
/// rows are all delivered or parked moves the watermark (`delivery_watermark.through_seq`) up to its
/// last row and is recorded as ONE `delivered_window` row — no write per message. No row at or below
/// the watermark is pending; there a row is delivered unless it is parked (the exception, recorded on
/// the row). Acknowledgements out of journal order are still written on their rows (`delivered_at`,
/// `stream_seq`), so every reader gets the same answer either way:
///
/// - delivered: `delivered_at IS NOT NULL OR (seq <= watermark AND parked_at IS NULL)`
/// - pending: `seq > watermark AND delivered_at IS NULL AND parked_at IS NULL`
/// - parked: `parked_at IS NOT NULL`
extension OutboxStore {
    /// The watermark as an SQL scalar, for statements that read it themselves.
    static let watermarkSQL = "(SELECT through_seq FROM delivery_watermark WHERE id = 1)"

    /// SQL condition: the `outbox` row is delivered.
    static let deliveredSQL =
        "(outbox.delivered_at IS NOT NULL OR (outbox.seq <= \(OutboxStore.watermarkSQL) AND outbox.parked_at IS NULL))"

    /// SQL condition: the `outbox` row was delivered inside a `delivered_window` (no per-row state).
    static let deliveredInWindowSQL =
        "(outbox.delivered_at IS NULL AND outbox.parked_at IS NULL AND outbox.seq <= \(OutboxStore.watermarkSQL))"

    /// The window holding an `outbox` row delivered inside one (by its first row).
    private static let windowOfRowSQL =
        "FROM delivered_window w WHERE w.first_seq <= outbox.seq ORDER BY w.first_seq DESC LIMIT 1"

    /// SQL expression: when the row was acknowledged (epoch ms), NULL when it was not.
    static let deliveredAtSQL = """
        CASE WHEN \(OutboxStore.deliveredInWindowSQL) THEN (SELECT w.delivered_at \(OutboxStore.windowOfRowSQL))
        ELSE outbox.delivered_at END
        """

    /// SQL expression: the row's JetStream stream sequence, NULL when unknown or not delivered.
    static let streamSequenceSQL = """
        CASE WHEN \(OutboxStore.deliveredInWindowSQL) THEN (SELECT w.first_stream_seq + (outbox.seq - w.first_seq) \(OutboxStore.windowOfRowSQL))
        ELSE outbox.stream_seq END
        """

    /// The watermark, read in the caller's transaction: no row with `seq` at or below it is pending.
    static func deliveredThrough(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT through_seq FROM delivery_watermark WHERE id = 1")) ?? 0
    }

    /// Records acknowledgements (any order) in the caller's write transaction and calls `marked` with
    /// the position in `seqs` of every one this call marked delivered; a row already delivered keeps its
    /// first acknowledgement.
    ///
    /// A run of consecutive rows (with consecutive stream sequences) that are all pending, with nothing
    /// pending between the watermark and the run, becomes one `delivered_window` row and moves the
    /// watermark — the worker's case. Any other run is written on its rows, as before the watermark.
    static func recordDelivered(
        _ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64, db: Database, marked: (Int) throws -> Void
    ) throws {
        var watermark = try Self.deliveredThrough(db)
        let startWatermark = watermark
        let pendingInRange = try db.cachedStatement(
            sql: """
                SELECT count(*) FROM outbox INDEXED BY outbox_pending
                WHERE seq BETWEEN ? AND ? AND delivered_at IS NULL AND parked_at IS NULL
                """)
        let insertWindow = try db.cachedStatement(
            sql:
                "INSERT INTO delivered_window (first_seq, last_seq, delivered_at, first_stream_seq) VALUES (?, ?, ?, ?)"
        )
        let undelivered = try db.cachedStatement(
            sql: """
                SELECT count(*) FROM outbox
                WHERE seq BETWEEN ?1 AND ?2 AND delivered_at IS NULL AND NOT (seq <= ?3 AND parked_at IS NULL)
                """)
        let undeliveredSeqs = try db.cachedStatement(
            sql: """
                SELECT seq FROM outbox
                WHERE seq BETWEEN ?1 AND ?2 AND delivered_at IS NULL AND NOT (seq <= ?3 AND parked_at IS NULL)
                """)
        let update = try db.cachedStatement(
            sql: """
                UPDATE outbox SET delivered_at = ?1, stream_seq = ?2 + (seq - ?3), next_attempt_at = NULL
                WHERE seq BETWEEN ?3 AND ?4 AND delivered_at IS NULL AND NOT (seq <= ?5 AND parked_at IS NULL)
                """)
        var index = 0
        for run in Self.consecutiveRuns(seqs) {
            let length = Int(run.last - run.first + 1)
            let positions = index..<(index + length)
            index += length
            if try Self.continuesWatermark(run, length: length, watermark: watermark, pending: pendingInRange) {
                try insertWindow.execute(arguments: [run.first, run.last, at, run.firstStreamSequence])
                watermark = run.last
                for position in positions { try marked(position) }
                continue
            }
            let count = try Int.fetchOne(undelivered, arguments: [run.first, run.last, watermark]) ?? 0
            let fresh: Set<Int64>? =
                count == length
                ? nil : Set(try Int64.fetchAll(undeliveredSeqs, arguments: [run.first, run.last, watermark]))
            try update.execute(arguments: [at, run.firstStreamSequence, run.first, run.last, watermark])
            for position in positions where fresh?.contains(seqs[position].seq) ?? true {
                try marked(position)
            }
        }
        if watermark != startWatermark {
            try db.execute(
                sql: "UPDATE delivery_watermark SET through_seq = ? WHERE id = 1", arguments: [watermark])
        }
    }

    /// Whether `run` (`length` rows) can be recorded as a window: all its rows pending, above the
    /// watermark, and nothing pending between the watermark and the run.
    private static func continuesWatermark(
        _ run: DeliveredRun, length: Int, watermark: Int64, pending: Statement
    ) throws -> Bool {
        guard run.first > watermark else { return false }
        guard try Int.fetchOne(pending, arguments: [run.first, run.last]) == length else { return false }
        if run.first == watermark + 1 { return true }
        return try Int.fetchOne(pending, arguments: [watermark + 1, run.first - 1]) == 0
    }

    /// Makes room for a row at `seq` to be pending again (unparking it): when it lies at or below the
    /// watermark, the windows above it are written back into their rows and dropped, and the watermark
    /// moves just below it. Rare (an operator action); costs one write per row above `seq`.
    static func lowerWatermark(below seq: Int64, db: Database) throws {
        guard seq <= (try Self.deliveredThrough(db)) else { return }
        let windows = try Row.fetchAll(
            db,
            sql: """
                SELECT first_seq, last_seq, delivered_at, first_stream_seq FROM delivered_window
                WHERE last_seq >= ? ORDER BY first_seq
                """,
            arguments: [seq])
        let update = try db.cachedStatement(
            sql: """
                UPDATE outbox SET delivered_at = ?1, stream_seq = ?2 + (seq - ?3), next_attempt_at = NULL
                WHERE seq BETWEEN ?3 AND ?4 AND delivered_at IS NULL AND parked_at IS NULL
                """)
        for window in windows {
            let first: Int64 = window[0]
            let last: Int64 = window[1]
            let deliveredAt: Int64 = window[2]
            let stream: Int64? = window[3]
            // A parked row is never inside a window, so every window found starts above `seq`.
            try update.execute(arguments: [deliveredAt, stream, first, last])
        }
        try db.execute(sql: "DELETE FROM delivered_window WHERE last_seq >= ?", arguments: [seq])
        try db.execute(sql: "UPDATE delivery_watermark SET through_seq = ? WHERE id = 1", arguments: [seq - 1])
    }

    /// Drops the windows whose rows were all pruned.
    static func pruneWindows(_ db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM delivered_window
                WHERE last_seq < coalesce((SELECT min(seq) FROM outbox), \(OutboxStore.watermarkSQL) + 1)
                """)
    }
}
