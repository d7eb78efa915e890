/// The cause of a failed outbox write, in words an operator can act on.
extension OutboxError {
    /// SQLite's primary result codes that mean "no room": `SQLITE_FULL` (the file system is full, ENOSPC,
    /// or `max_page_count` is reached).
    private static let sqliteFull: Int32 = 13
    /// `SQLITE_IOERR`: the file system refused a read or write (for example the WAL index could not grow).
    private static let sqliteIOError: Int32 = 10
    /// `SQLITE_READONLY` and `SQLITE_CANTOPEN`: the file became unwritable or vanished.
    private static let sqliteReadOnly: Int32 = 8
    private static let sqliteCantOpen: Int32 = 14

    /// Whether SQLite reported that the outbox's disk (or its size cap) is full.
    public var isStorageFull: Bool {
        guard let code = self.sqliteCode else { return false }
        return code & 0xff == Self.sqliteFull
    }

    /// A short description of why the write failed, for logs and `/readyz`; names the path and, when it
    /// is one the operator can fix, the remedy. Holds no payload bytes.
    public var cause: String {
        switch self.sqliteCode.map({ $0 & 0xff }) {
        case Self.sqliteFull:
            return "the outbox's file system is full (SQLITE_FULL) at \(self.path): free space there"
        case Self.sqliteIOError:
            return "I/O error writing the outbox at \(self.path) (SQLite code \(self.sqliteCode ?? 0))"
        case Self.sqliteReadOnly, Self.sqliteCantOpen:
            return "the outbox at \(self.path) cannot be written (SQLite code \(self.sqliteCode ?? 0))"
        case let code?:
            return "writing the outbox at \(self.path) failed (SQLite code \(code))"
        case nil:
            return "writing the outbox at \(self.path) failed (\(self.code.rawValue))"
        }
    }
}
