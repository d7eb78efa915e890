extension OutboxMigrations {
    /// One source snapshot per manager for a gateway watching several (`managers:`). A single-manager
    /// gateway keeps using `source_snapshot`, so an upgraded one resumes from what it journaled.
    static let v005 = OutboxMigration(
        identifier: "v005_manager_snapshots",
        sql: """
            CREATE TABLE manager_snapshot (
                manager    TEXT    PRIMARY KEY,
                snapshot   BLOB    NOT NULL,
                updated_at INTEGER NOT NULL
            );
            """
    )
}
