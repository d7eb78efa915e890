/// Opening or reading an outbox read-only (``OutboxReader``) failed.
///
/// ``description`` names the path, what is wrong and what the operator can do about it; it never
/// contains payload bytes.
public struct OutboxReadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Code: String, Sendable, Hashable {
        /// No file at the path: the gateway has not run yet with this configuration, or the path is wrong.
        case missing
        /// The file (or a directory on its path) is not readable by this user.
        case notReadable
        /// The path is not an SQLite database file (another file type, garbage, a directory).
        case notADatabase
        /// An SQLite database whose pages are damaged.
        case corrupt
        /// A healthy SQLite database without the outbox schema.
        case notAnOutbox
        /// Written by a newer gateway: migrations this binary does not know were applied.
        case schemaTooNew
        /// Written by an older gateway: migrations this binary expects were not applied yet.
        case schemaTooOld
        /// Another connection kept the database locked longer than the busy timeout.
        case busy
        /// A WAL database whose `-wal`/`-shm` companions are missing or unusable and cannot be created,
        /// because this user may not write to the directory or to the `-shm` file.
        case walUnavailable
        /// Any other SQLite or I/O failure.
        case database
    }

    public var code: Code
    /// The outbox database path.
    public var path: String
    /// The problem and, where there is one, the remedy.
    public var detail: String
    /// SQLite's extended result code, when SQLite reported the failure.
    public var sqliteCode: Int32?

    public init(code: Code, path: String, detail: String, sqliteCode: Int32? = nil) {
        self.code = code
        self.path = path
        self.detail = detail
        self.sqliteCode = sqliteCode
    }

    public var description: String { "outbox \(self.path) \(self.detail)" }
}
