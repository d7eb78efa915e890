extension OutboxMigrations {
    /// The journal (`outbox`), the source snapshot (one row) and `meta`.
    ///
    /// Times are Unix epoch milliseconds. A row is pending while `delivered_at` and `parked_at` are both
    /// NULL; the partial index `outbox_pending` keeps pending-in-order scans and counts proportional to
    /// the pending rows, not to the whole journal.
    static let v001 = OutboxMigration(
        identifier: "v001_create_outbox",
        sql: """
            CREATE TABLE outbox (
                seq             INTEGER PRIMARY KEY AUTOINCREMENT,
                message_id      TEXT    NOT NULL UNIQUE,
                event_id        TEXT    NOT NULL,
                kind            TEXT    NOT NULL CHECK (kind IN ('event', 'secondary', 'batch')),
                subject         TEXT    NOT NULL,
                agent_id        TEXT,
                payload         BLOB    NOT NULL,
                created_at      INTEGER NOT NULL,
                attempts        INTEGER NOT NULL DEFAULT 0,
                last_error      TEXT,
                next_attempt_at INTEGER,
                delivered_at    INTEGER,
                stream_seq      INTEGER,
                parked_at       INTEGER
            );
            CREATE INDEX outbox_pending ON outbox (seq) WHERE delivered_at IS NULL AND parked_at IS NULL;
            CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
            CREATE INDEX outbox_created ON outbox (created_at);
            CREATE INDEX outbox_agent ON outbox (agent_id, seq);

            CREATE TABLE source_snapshot (
                id         INTEGER PRIMARY KEY CHECK (id = 1),
                snapshot   BLOB    NOT NULL,
                updated_at INTEGER NOT NULL
            );

            CREATE TABLE meta (
                key   TEXT PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            """
    )
}
