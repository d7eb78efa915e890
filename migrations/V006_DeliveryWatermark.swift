extension OutboxMigrations {
    /// Delivery recorded per acknowledged window instead of per row.
    ///
    /// `delivery_watermark.through_seq` (one row) is the delivered watermark: no row at or below it is
    /// pending. A row at or below it that is neither parked nor has `delivered_at` set was delivered
    /// inside one of the `delivered_window` rows — one row per acknowledged window of consecutive rows,
    /// with the acknowledgement time and the first row's JetStream stream sequence (the rest follow it
    /// one by one). Rows keep `delivered_at`/`stream_seq` when delivered out of journal order, by an older
    /// gateway or when an operator unparks a row below the watermark (the windows above it are then
    /// written back into their rows and the watermark moves below the unparked row).
    ///
    /// An existing journal starts with the watermark just below its first pending row, so nothing
    /// pending is skipped and nothing delivered is sent again.
    static let v006 = OutboxMigration(
        identifier: "v006_delivery_watermark",
        sql: """
            CREATE TABLE delivery_watermark (
                id          INTEGER PRIMARY KEY CHECK (id = 1),
                through_seq INTEGER NOT NULL
            );
            INSERT INTO delivery_watermark (id, through_seq) VALUES (1, coalesce(
                (SELECT min(seq) - 1 FROM outbox WHERE delivered_at IS NULL AND parked_at IS NULL),
                (SELECT max(seq) FROM outbox),
                0));
            CREATE TABLE delivered_window (
                first_seq        INTEGER PRIMARY KEY,
                last_seq         INTEGER NOT NULL,
                delivered_at     INTEGER NOT NULL,
                first_stream_seq INTEGER
            );
            INSERT INTO meta (key, value) VALUES ('schema', 'outbox v6')
                ON CONFLICT (key) DO UPDATE SET value = excluded.value;
            """
    )
}
