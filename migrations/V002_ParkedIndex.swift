extension OutboxMigrations {
    /// Parked rows (never retried, never pruned) are counted for metrics and listed for operators.
    static let v002 = OutboxMigration(
        identifier: "v002_parked_index",
        sql: """
            CREATE INDEX outbox_parked ON outbox (seq) WHERE parked_at IS NOT NULL;
            INSERT INTO meta (key, value) VALUES ('schema', 'outbox v2')
                ON CONFLICT (key) DO UPDATE SET value = excluded.value;
            """
    )
}
