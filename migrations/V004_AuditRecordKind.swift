extension OutboxMigrations {
    /// What each audit record acknowledges: `delivery` (a journaled row, every record before this
    /// migration), `heartbeat` or `replay`. A kind other than `delivery` is part of the record's hash
    /// (see `AuditRecord` in WireContract), so older records keep theirs.
    static let v004 = OutboxMigration(
        identifier: "v004_audit_record_kind",
        sql: """
            ALTER TABLE audit_log ADD COLUMN kind TEXT NOT NULL DEFAULT 'delivery';
            INSERT INTO meta (key, value) VALUES ('schema', 'outbox v4')
                ON CONFLICT (key) DO UPDATE SET value = excluded.value;
            """
    )
}
