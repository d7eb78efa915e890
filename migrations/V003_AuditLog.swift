extension OutboxMigrations {
    /// The tamper-evident audit log: one hash-chained record per message the server acknowledged
    /// (see `AuditRecord` in WireContract for the hash), written in the transaction that marks the rows
    /// delivered. Pruned from the front with the outbox's retention; the last pruned record's sequence
    /// and hash stay in `meta` (`audit_anchor_seq`, `audit_anchor_hash`) so the rest stays verifiable.
    static let v003 = OutboxMigration(
        identifier: "v003_audit_log",
        sql: """
            CREATE TABLE audit_log (
                seq             INTEGER PRIMARY KEY,
                recorded_at     INTEGER NOT NULL,
                outbox_seq      INTEGER NOT NULL,
                subject         TEXT    NOT NULL,
                message_id      TEXT    NOT NULL,
                stream_seq      INTEGER,
                payload_sha256  BLOB    NOT NULL,
                prev_hash       BLOB    NOT NULL,
                hash            BLOB    NOT NULL
            );
            CREATE INDEX audit_log_recorded ON audit_log (recorded_at);
            INSERT INTO meta (key, value) VALUES ('schema', 'outbox v3')
                ON CONFLICT (key) DO UPDATE SET value = excluded.value;
            """
    )
}
