import GRDBSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A raw read-only SQLite connection to global.db.
///
/// Raw rather than through GRDB's queues so the reader controls exactly what runs on the
/// connection (no pragmas that could touch the file), and can copy rows straight from SQLite's
/// column buffers into an ``AgentSnapshot`` without building `String`s. Not thread-safe: the
/// ``GlobalDatabaseReader`` owning it serialises every use behind its lock.
final class SQLiteReadConnection {
    private var handle: OpaquePointer?
    let path: String

    /// Opens `path` with `SQLITE_OPEN_READONLY` (never creating it, never changing its journal mode).
    init(path: String, busyTimeoutMilliseconds: Int32) throws(WazuhSourceError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_PRIVATECACHE
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw Self.error(rc, path: path, message: message)
        }
        // SQLite's own busy timeout first sleeps a whole millisecond; wazuh-db's exclusive lock at
        // COMMIT (which is when the watcher wakes us) usually lasts a fraction of that.
        let timeoutMicroseconds = Int(max(busyTimeoutMilliseconds, 0)) * 1000
        sqlite3_busy_handler(db, sqliteBusyHandler, UnsafeMutableRawPointer(bitPattern: timeoutMicroseconds))
        sqlite3_extended_result_codes(db, 1)
        handle = db
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs a statement that returns no rows of interest (`BEGIN`, `COMMIT`, `ROLLBACK`).
    func execute(_ sql: String) throws(WazuhSourceError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw lastError(rc) }
    }

    /// Whether a transaction is open on this connection.
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Prepares `sql`, calls `row` for each result row, finalises the statement.
    func forEachRow(_ sql: String, _ row: (OpaquePointer) throws(WazuhSourceError) -> Void) throws(WazuhSourceError) {
        try scanRows(sql) { statement throws(WazuhSourceError) in
            try row(statement)
            return true
        }
    }

    /// Prepares `sql`, calls `row` for each result row until it returns `false`, finalises the statement.
    func scanRows(_ sql: String, _ row: (OpaquePointer) throws(WazuhSourceError) -> Bool) throws(WazuhSourceError) {
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else { throw lastError(prepared) }
        defer { sqlite3_finalize(statement) }
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw lastError(rc) }
            guard try row(statement) else { return }
        }
    }

    /// Prepares `sql` once and hands `body` a statement it can run many times with different
    /// parameters; the statement is finalised when `body` returns.
    func withStatement<Result>(
        _ sql: String, _ body: (PreparedStatement) throws(WazuhSourceError) -> Result
    ) throws(WazuhSourceError) -> Result {
        var statement: OpaquePointer?
        let prepared = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard prepared == SQLITE_OK, let statement else { throw lastError(prepared) }
        defer { sqlite3_finalize(statement) }
        return try body(PreparedStatement(statement: statement, connection: self))
    }

    /// A statement prepared by ``SQLiteReadConnection/withStatement(_:_:)``; valid only inside that call.
    struct PreparedStatement {
        fileprivate let statement: OpaquePointer
        fileprivate let connection: SQLiteReadConnection

        /// Runs the statement with `?1` bound to `value`, calling `row` for each result row.
        func forEachRow(
            binding value: Int64, _ row: (OpaquePointer) throws(WazuhSourceError) -> Void
        ) throws(WazuhSourceError) {
            sqlite3_reset(statement)
            let bound = sqlite3_bind_int64(statement, 1, value)
            guard bound == SQLITE_OK else { throw connection.lastError(bound) }
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_DONE { return }
                guard rc == SQLITE_ROW else { throw connection.lastError(rc) }
                try row(statement)
            }
        }
    }

    /// The first column of the first row as an integer, or `nil` when there is no row or it is NULL.
    func integer(_ sql: String) throws(WazuhSourceError) -> Int64? {
        var result: Int64?
        try forEachRow(sql) { statement in
            if result == nil, sqlite3_column_type(statement, 0) != SQLITE_NULL {
                result = sqlite3_column_int64(statement, 0)
            }
        }
        return result
    }

    fileprivate func lastError(_ rc: Int32) -> WazuhSourceError {
        Self.error(rc, path: path, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Maps an SQLite result code to the error a caller can act on.
    static func error(_ rc: Int32, path: String, message: String) -> WazuhSourceError {
        let underlying = SQLiteResult(code: rc, message: message)
        switch rc & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return WazuhSourceError(
                code: .busy, path: path, message: "database is locked by its writer", underlying: underlying)
        case SQLITE_NOTADB, SQLITE_CORRUPT:
            return WazuhSourceError(
                code: .notADatabase, path: path, message: "file is not a readable SQLite database",
                underlying: underlying)
        case SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_AUTH:
            return WazuhSourceError(
                code: .permissionDenied, path: path, message: "cannot open the database file", underlying: underlying)
        case SQLITE_READONLY:
            return WazuhSourceError(
                code: .busy, path: path, message: "a hot journal awaits recovery by the database's writer",
                underlying: underlying)
        default:
            return WazuhSourceError(
                code: .readFailed, path: path, message: "SQLite error \(rc)", underlying: underlying)
        }
    }
}

/// The busy handler of every read connection: waits 20 µs, then twice as long at each further
/// attempt (at most 5 ms at a time) until the busy timeout, passed as the context, is spent.
private let sqliteBusyHandler: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { context, attempts in
    let timeout = Int(bitPattern: context)
    var slept = 0
    var delay = 20
    for _ in 0..<attempts {
        slept += delay
        delay = min(delay * 2, 5_000)
    }
    guard slept < timeout else { return 0 }
    usleep(useconds_t(min(delay, timeout - slept)))
    return 1
}

/// An SQLite result code and its message, kept as the underlying error of a ``WazuhSourceError``.
public struct SQLiteResult: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String

    public var description: String { "SQLite result \(code): \(message)" }
}

extension OpaquePointer {
    /// The bytes of a TEXT/BLOB column, or `nil` for NULL. Valid until the next step.
    @inline(__always)
    func columnBytes(_ index: Int32) -> UnsafeRawBufferPointer? {
        // The blob pointer first (then its length), as SQLite documents; only a missing pointer
        // (NULL or an empty value) needs the type to tell the two apart.
        guard let base = sqlite3_column_blob(self, index) else {
            guard sqlite3_column_type(self, index) != SQLITE_NULL else { return nil }
            return UnsafeRawBufferPointer(start: nil, count: 0)
        }
        let count = Int(sqlite3_column_bytes(self, index))
        return UnsafeRawBufferPointer(start: count > 0 ? base : nil, count: count)
    }

    @inline(__always)
    func columnInt64(_ index: Int32) -> Int64? {
        let value = sqlite3_column_int64(self, index)
        // NULL reads as 0: only then is the type worth asking.
        guard value != 0 || sqlite3_column_type(self, index) != SQLITE_NULL else { return nil }
        return value
    }
}
