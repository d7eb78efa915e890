/// An outbox operation failed.
///
/// Names the database path and the failing step; never contains payload bytes.
public struct OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed.
    public enum Code: String, Sendable, Hashable {
        /// The database file could not be opened or created (permissions, missing directory, disk).
        case cannotOpen
        /// The file was not a healthy outbox database and was moved aside (see ``OutboxOpenReport``).
        case corrupt
        /// A migration could not be applied.
        case migrationFailed
        /// A statement failed (disk full, I/O error, constraint).
        case database
        /// A caller passed a value the store cannot accept (negative limit, ...).
        case invalidArgument
    }

    public var code: Code
    /// The outbox database path.
    public var path: String
    /// What failed and why, including SQLite's message.
    public var detail: String
    /// SQLite's extended result code when SQLite reported the failure (`SQLITE_BUSY` is 5,
    /// `SQLITE_CORRUPT` 11, …), so callers can tell a locked database from a damaged one.
    public var sqliteCode: Int32?

    public init(code: Code, path: String, detail: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.path = path
        self.detail = detail
        self.sqliteCode = sqliteCode
    }

    public var description: String { "outbox \(self.path): \(self.code.rawValue): \(self.detail)" }
}
