/// An outbox operation failed: the read-write ``OutboxStore`` or the read-only ``OutboxReader``.
///
/// Names the database path and the failing step; never contains payload bytes.
public struct OutboxError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What failed.
    public enum Code: String, Sendable, Hashable {
        /// The database file could not be opened or created (permissions, missing directory, disk).
        case cannotOpen
        /// The file was not a healthy outbox database and was moved aside (see ``OutboxOpenReport``);
        /// for ``OutboxReader``, an SQLite database whose pages are damaged (left as it is).
        case corrupt
        /// A migration could not be applied.
        case migrationFailed
        /// A statement failed (disk full, I/O error, constraint); for ``OutboxReader``, any other SQLite
        /// or I/O failure.
        case database
        /// A caller passed a value the store cannot accept (negative limit, ...).
        case invalidArgument
        /// Reader: no file at the path: the gateway has not run yet with this configuration, or the path is wrong.
        case missing
        /// Reader: the file (or a directory on its path) is not readable by this user.
        case notReadable
        /// Reader: the path is not an SQLite database file (another file type, garbage, a directory).
        case notADatabase
        /// Reader: a healthy SQLite database without the outbox schema.
        case notAnOutbox
        /// Reader: written by a newer gateway: migrations this binary does not know were applied.
        case schemaTooNew
        /// Reader: written by an older gateway: migrations this binary expects were not applied yet.
        case schemaTooOld
        /// Reader: another connection kept the database locked longer than the busy timeout.
        case busy
        /// Reader: a WAL database whose `-wal`/`-shm` companions are missing or unusable and cannot be created,
        /// because this user may not write to the directory or to the `-shm` file.
        case walUnavailable
    }

    public var code: Code
    /// The outbox database path.
    public var path: String
    /// What failed and why, including SQLite's message; from ``OutboxReader``, the problem and, where
    /// there is one, the remedy, phrased to follow the path ("does not exist: ...").
    public var message: String
    /// SQLite's extended result code when SQLite reported the failure (`SQLITE_BUSY` is 5,
    /// `SQLITE_CORRUPT` 11, …), so callers can tell a locked database from a damaged one.
    public var sqliteCode: Int32?
    /// Raised by the read-only ``OutboxReader``: ``description`` reads "outbox PATH MESSAGE" (an operator's
    /// sentence) instead of the store's "outbox PATH: CODE: MESSAGE".
    public var readOnly: Bool
    /// The error that caused this one, if any.
    public var underlying: (any Error)?

    public init(
        code: Code, path: String, message: String, sqliteCode: Int32? = nil, readOnly: Bool = false,
        underlying: (any Error)? = nil
    ) {
        self.code = code
        self.path = path
        self.message = message
        self.sqliteCode = sqliteCode
        self.readOnly = readOnly
        self.underlying = underlying
    }

    public var description: String {
        self.readOnly
            ? "outbox \(self.path) \(self.message)" : "outbox \(self.path): \(self.code.rawValue): \(self.message)"
    }

    public var debugDescription: String {
        var text = "OutboxError(code: \(self.code.rawValue), path: \(self.path), message: \(self.message)"
        if let sqliteCode = self.sqliteCode { text += ", sqliteCode: \(sqliteCode)" }
        if let underlying = self.underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }

    /// Two errors are equal when everything but the underlying error is.
    public static func == (lhs: OutboxError, rhs: OutboxError) -> Bool {
        lhs.code == rhs.code && lhs.path == rhs.path && lhs.message == rhs.message
            && lhs.sqliteCode == rhs.sqliteCode && lhs.readOnly == rhs.readOnly
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.path)
        hasher.combine(self.message)
        hasher.combine(self.sqliteCode)
        hasher.combine(self.readOnly)
    }
}

extension OutboxError {
    /// A failure of the read-only ``OutboxReader``: `message` continues the sentence "outbox PATH ...".
    static func reader(code: Code, path: String, message: String, sqliteCode: Int32? = nil) -> OutboxError {
        OutboxError(code: code, path: path, message: message, sqliteCode: sqliteCode, readOnly: true)
    }
}
