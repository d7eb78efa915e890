/// One schema migration of the outbox database: an identifier GRDB records once applied, and its SQL.
///
/// Migrations are compiled into the binary (one per file in `migrations/`), so no resource bundle is
/// needed at run time. Never edit a released migration: add a new file and append it to ``OutboxMigrations/all``.
public struct OutboxMigration: Sendable, Hashable {
    /// Recorded by GRDB in `grdb_migrations`; unique and stable forever.
    public let identifier: String
    /// One or more SQL statements, run in one transaction.
    public let sql: String

    public init(identifier: String, sql: String) {
        self.identifier = identifier
        self.sql = sql
    }
}

/// Namespace for the outbox schema migrations; each migration lives in its own file.
public enum OutboxMigrations {
    /// Every migration, in the order they must be applied.
    public static let all: [OutboxMigration] = [v001, v002, v003, v004, v005, v006]
}
