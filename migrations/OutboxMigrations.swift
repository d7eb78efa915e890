/// Namespace for the outbox schema migrations; each migration lives in its own file.
public enum OutboxMigrations {}
