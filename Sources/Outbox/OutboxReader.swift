import Foundation
import GRDB
import OutboxMigrations
import Timekeeping
import WireContract

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only view of an existing outbox, for inspection (`outbox stats`, `outbox list`, `replay`)
/// while the gateway runs or after it stopped.
///
/// The file is opened with `SQLITE_OPEN_READONLY`: the reader never creates the file, never migrates
/// it, never runs the start-up check that moves a damaged journal aside, never changes the journal
/// mode and never writes a page. It refuses a file whose recorded migrations differ from the ones this
/// binary knows, either way. In WAL mode SQLite reads through the `-wal` and `-shm` files next to the
/// database: while the gateway runs they exist; after it stopped cleanly SQLite recreates them (empty)
/// when the directory is writable, and otherwise opening fails with
/// ``OutboxError/Code/walUnavailable``.
///
/// Every failure is an ``OutboxError`` naming the path, the problem and the remedy.
public final class OutboxReader: Sendable {
    /// The database path.
    public let path: String
    /// How long a read waits for another connection's lock before failing with
    /// ``OutboxError/Code/busy``.
    public let busyTimeout: Duration
    private let store: OutboxStore

    /// Opens the outbox at `path` read-only and checks its schema version.
    ///
    /// - Parameters:
    ///   - now: the clock `stats()` measures the oldest pending age against, in Unix epoch milliseconds.
    public init(
        path: String, busyTimeout: Duration = .seconds(2),
        now: @escaping @Sendable () -> Int64 = OutboxStore.wallClockMilliseconds
    ) throws(OutboxError) {
        self.path = path
        self.busyTimeout = busyTimeout
        try Self.checkFile(path)

        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout.fractionalSeconds)
        configuration.label = "outbox-reader"
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw Self.classify(error, path: path, busyTimeout: busyTimeout)
        }
        do {
            try Self.checkSchema(queue, path: path, busyTimeout: busyTimeout)
        } catch {
            try? queue.close()
            throw error
        }
        self.store = OutboxStore(path: path, openedDatabase: queue, now: now)
    }

    /// Counts, oldest pending age and database size (see ``OutboxStore/stats()``).
    public func stats() throws(OutboxError) -> OutboxStats {
        try self.reading { () throws(OutboxError) in try self.store.stats() }
    }

    /// When the gateway last baselined (epoch ms), `nil` if never.
    public func baselineRecordedAt() throws(OutboxError) -> Int64? {
        try self.reading { () throws(OutboxError) in try self.store.baselineRecordedAt() }
    }

    /// Journal rows with their delivery state matching `query`, in `seq` order.
    public func entries(matching query: OutboxQuery) throws(OutboxError) -> [OutboxEntry] {
        try self.reading { () throws(OutboxError) in try self.store.entries(matching: query) }
    }

    /// The audit chain's head (see ``OutboxStore/auditHead()``).
    public func auditHead() throws(OutboxError) -> AuditHead? {
        try self.reading { () throws(OutboxError) in try self.store.auditHead() }
    }

    /// Audit records in sequence order (see ``OutboxStore/auditRecords(afterSequence:recordedFrom:recordedBefore:limit:)``).
    public func auditRecords(
        afterSequence: Int64, recordedFrom: Int64? = nil, recordedBefore: Int64? = nil, limit: Int
    ) throws(OutboxError) -> [AuditRecord] {
        try self.reading { () throws(OutboxError) in
            try self.store.auditRecords(
                afterSequence: afterSequence, recordedFrom: recordedFrom, recordedBefore: recordedBefore, limit: limit)
        }
    }

    /// Checks the whole audit chain (see ``OutboxStore/verifyAudit(pageSize:)``).
    public func verifyAudit() throws(OutboxError) -> AuditVerification {
        try self.reading { () throws(OutboxError) in try self.store.verifyAudit() }
    }

    /// Closes the connection.
    public func close() throws(OutboxError) {
        try self.reading { () throws(OutboxError) in try self.store.close() }
    }

    private func reading<T>(_ body: () throws(OutboxError) -> T) throws(OutboxError) -> T {
        do {
            return try body()
        } catch {
            throw Self.classify(
                sqliteCode: error.sqliteCode, message: error.message, path: self.path, busyTimeout: self.busyTimeout)
        }
    }

    // MARK: Opening

    /// Existence, type and permission, checked before SQLite sees the path (SQLite says only
    /// "unable to open database file" for all of them).
    private static func checkFile(_ path: String) throws(OutboxError) {
        var status = stat()
        if stat(path, &status) != 0 {
            let number = errno
            switch number {
            case ENOENT, ENOTDIR:
                throw OutboxError.reader(
                    code: .missing, path: path,
                    message: "does not exist: the gateway has not run yet with this configuration, or the path is wrong"
                )
            case EACCES:
                throw OutboxError.reader(
                    code: .notReadable, path: path,
                    message: "cannot be reached: a directory on its path is not searchable by this user "
                        + "(uid \(getuid())); run as the gateway's user or root")
            default:
                throw OutboxError.reader(
                    code: .notReadable, path: path, message: "cannot be examined: \(Self.text(number))")
            }
        }
        if (status.st_mode & S_IFMT) == S_IFDIR {
            throw OutboxError.reader(
                code: .notADatabase, path: path, message: "is a directory, not an outbox database")
        }
        if (status.st_mode & S_IFMT) != S_IFREG {
            throw OutboxError.reader(
                code: .notADatabase, path: path, message: "is not a regular file, not an outbox database")
        }
        if access(path, R_OK) != 0 {
            throw OutboxError.reader(
                code: .notReadable, path: path,
                message: "is not readable by this user (uid \(getuid())): \(Self.text(errno)); "
                    + "run as the gateway's user or root")
        }
    }

    /// Reads the migrations GRDB recorded (table `grdb_migrations`, one row per applied identifier,
    /// exactly as ``OutboxStore`` records them) and compares them with ``OutboxMigrations/all``.
    private static func checkSchema(_ queue: DatabaseQueue, path: String, busyTimeout: Duration)
        throws(OutboxError)
    {
        let tables: [String]
        let applied: [String]
        do {
            (tables, applied) = try queue.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
                guard tables.contains("grdb_migrations") else { return (tables, []) }
                return (tables, try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations"))
            }
        } catch {
            throw Self.classify(error, path: path, busyTimeout: busyTimeout)
        }
        guard tables.contains("grdb_migrations"), tables.contains("outbox") else {
            throw OutboxError.reader(
                code: .notAnOutbox, path: path,
                message: tables.isEmpty
                    ? "is an empty SQLite database, not an outbox"
                    : "is an SQLite database without the outbox schema (no grdb_migrations or outbox table)")
        }
        let known = OutboxMigrations.all.map(\.identifier)
        let unknown = applied.filter { !known.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw OutboxError.reader(
                code: .schemaTooNew, path: path,
                message: "was written by a newer gateway: it has migrations this binary does not know "
                    + "(\(unknown.joined(separator: ", "))); this binary understands up to \(known.last ?? "none"). "
                    + "Inspect it with the newer binary")
        }
        let missing = known.filter { !applied.contains($0) }
        if !missing.isEmpty {
            throw OutboxError.reader(
                code: .schemaTooOld, path: path,
                message: "has an older schema than this binary understands: migrations "
                    + "\(missing.joined(separator: ", ")) are not applied. The gateway applies them when it next "
                    + "starts; inspection never changes the file")
        }
    }

    // MARK: Errors

    private static func classify(_ error: any Error, path: String, busyTimeout: Duration) -> OutboxError {
        if let error = error as? DatabaseError {
            return self.classify(
                sqliteCode: error.extendedResultCode.rawValue, message: error.message ?? "\(error)", path: path,
                busyTimeout: busyTimeout)
        }
        return self.classify(sqliteCode: nil, message: "\(error)", path: path, busyTimeout: busyTimeout)
    }

    /// Maps SQLite's result code (and the state of the files) to what an operator needs to know.
    static func classify(sqliteCode: Int32?, message: String, path: String, busyTimeout: Duration)
        -> OutboxError
    {
        let said = "(SQLite: \(message))"
        func error(_ code: OutboxError.Code, _ detail: String) -> OutboxError {
            OutboxError.reader(code: code, path: path, message: detail, sqliteCode: sqliteCode)
        }
        guard let sqliteCode else { return error(.database, "could not be read: \(message)") }
        let directory =
            (path as NSString).deletingLastPathComponent.isEmpty
            ? "." : (path as NSString).deletingLastPathComponent
        let runAs = "run as the gateway's user, or while the gateway is running (it keeps both files open)"
        switch sqliteCode {
        case 1544:  // SQLITE_READONLY_DIRECTORY
            return error(
                .walUnavailable,
                "is a WAL database: SQLite reads it through \(path)-wal and \(path)-shm, which do not exist and "
                    + "cannot be created because \(directory) is not writable by this user (uid \(getuid())); "
                    + "\(runAs) (SQLITE_READONLY_DIRECTORY)")
        case 1288:  // SQLITE_READONLY_CANTINIT
            return error(
                .walUnavailable,
                "is a WAL database whose \(path)-shm this user (uid \(getuid())) cannot write and cannot use as "
                    + "it is; \(runAs) \(said)")
        case 264:  // SQLITE_READONLY_RECOVERY
            return error(
                .walUnavailable,
                "has a write-ahead log that needs recovery, which a read-only connection cannot do; start the "
                    + "gateway (it recovers the log) or \(runAs) \(said)")
        default:
            break
        }
        switch sqliteCode & 0xFF {
        case 26:  // SQLITE_NOTADB
            return error(.notADatabase, "is not an SQLite database \(said)")
        case 11:  // SQLITE_CORRUPT
            return error(
                .corrupt,
                "is corrupt \(said); the gateway moves it aside and starts a fresh journal at its next start, "
                    + "inspection leaves it as it is")
        case 5, 6:  // SQLITE_BUSY, SQLITE_LOCKED
            return error(
                .busy,
                "stayed locked by another connection for more than \(busyTimeout) \(said); try again "
                    + "(a process holding it in exclusive locking mode blocks every reader)")
        case 3, 23:  // SQLITE_PERM, SQLITE_AUTH
            return error(.notReadable, "is not readable by this user (uid \(getuid())) \(said)")
        case 14:  // SQLITE_CANTOPEN
            return self.cannotOpen(path: path, directory: directory, said: said, runAs: runAs, error: error)
        default:
            return error(.database, "could not be read \(said)")
        }
    }

    /// `SQLITE_CANTOPEN`: the database opened, so it is one of the WAL files, or the file went away.
    private static func cannotOpen(
        path: String, directory: String, said: String, runAs: String,
        error: (OutboxError.Code, String) -> OutboxError
    ) -> OutboxError {
        let manager = FileManager.default
        guard manager.fileExists(atPath: path) else {
            return error(.missing, "does not exist (any more) \(said)")
        }
        for suffix in ["-wal", "-shm"] where manager.fileExists(atPath: path + suffix) {
            if access(path + suffix, R_OK) != 0 {
                return error(
                    .walUnavailable,
                    "is a WAL database and \(path)\(suffix) is not readable by this user (uid \(getuid())); "
                        + "\(runAs) \(said)")
            }
        }
        if access(directory, W_OK) != 0 {
            return error(
                .walUnavailable,
                "is a WAL database: SQLite needs \(path)-wal and \(path)-shm, which cannot be created because "
                    + "\(directory) is not writable by this user (uid \(getuid())); \(runAs) \(said)")
        }
        return error(.notReadable, "could not be opened \(said)")
    }

    private static func text(_ number: Int32) -> String {
        String(cString: strerror(number))
    }
}
