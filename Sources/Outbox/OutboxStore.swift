import Foundation
import GRDB
import Logging
import OutboxMigrations
import Timekeeping

/// The durable outbox journal: detected messages, the source snapshot they were diffed against, and
/// their delivery state, in one SQLite database (WAL, `synchronous=FULL` by default).
///
/// Safe to use from several tasks at once (detection and delivery): every access goes through one GRDB
/// `DatabaseQueue`, which serialises them. Calls block the calling thread for the duration of one short
/// transaction. Pending rows stay on disk; reads are paged.
public final class OutboxStore: Sendable {
    /// The database path.
    public let path: String
    /// What opening found and did (created, migrated, moved a corrupt file aside).
    public let openReport: OutboxOpenReport
    let database: DatabaseQueue
    let logger: Logger
    let now: @Sendable () -> Int64
    /// The manager whose snapshot and `meta` entries this view reads and writes (see
    /// ``scoped(toManager:)``); nil for the single-manager journal.
    public let managerScope: String?

    /// Opens (creating and migrating if needed) the outbox at `path`.
    ///
    /// An existing file that is not a database, is corrupt or fails `PRAGMA quick_check` is renamed to
    /// `<path>.corrupt-<epoch ms>` (its `-wal`/`-shm` alongside), an error is logged, and a fresh outbox
    /// is created; ``openReport`` tells the caller, which must then re-baseline.
    ///
    /// - Parameters:
    ///   - now: the clock for `created_at`, `delivered_at` etc., in Unix epoch milliseconds.
    /// - Throws: ``OutboxError`` `cannotOpen` (e.g. permissions, missing directory) or `migrationFailed`.
    public init(
        path: String, synchronous: OutboxSynchronous = .full,
        logger: Logger = Logger(label: "outbox", factory: { _ in SwiftLogNoOpLogHandler() }),
        now: @escaping @Sendable () -> Int64 = OutboxStore.wallClockMilliseconds
    ) throws(OutboxError) {
        self.path = path
        self.logger = logger
        self.now = now
        self.managerScope = nil
        let existed = FileManager.default.fileExists(atPath: path)

        var movedAsidePath: String?
        var corruption: OutboxError?
        var opened: (DatabaseQueue, [String])
        do {
            opened = try Self.openAndMigrate(path: path, synchronous: synchronous)
        } catch let failure as OpenFailure {
            guard failure.isCorruption else { throw failure.error }
            let aside = "\(path).corrupt-\(now())"
            do {
                try Self.moveAside(path: path, to: aside)
            } catch {
                throw OutboxError(
                    code: .cannotOpen, path: path,
                    message: "corrupt outbox could not be moved aside to \(aside): \(error)")
            }
            movedAsidePath = aside
            corruption = failure.error
            logger.error(
                "outbox database unusable; moved aside and starting a fresh journal",
                metadata: [
                    "outbox.path": "\(path)", "outbox.moved_to": "\(aside)", "error": "\(failure.error)",
                ])
            do {
                opened = try Self.openAndMigrate(path: path, synchronous: synchronous)
            } catch let failure as OpenFailure {
                throw failure.error
            } catch {
                throw OutboxError(code: .cannotOpen, path: path, message: "\(error)")
            }
        } catch {
            throw OutboxError(code: .cannotOpen, path: path, message: "\(error)")
        }
        self.database = opened.0
        self.openReport = OutboxOpenReport(
            created: !existed || movedAsidePath != nil, appliedMigrations: opened.1, movedAsidePath: movedAsidePath,
            corruption: corruption)
        if !opened.1.isEmpty {
            logger.info(
                "outbox migrated",
                metadata: ["outbox.path": "\(path)", "outbox.migrations": "\(opened.1.joined(separator: ","))"])
        }
    }

    /// Wraps a connection opened elsewhere — ``OutboxReader``'s read-only one — without checking,
    /// migrating or writing anything.
    init(path: String, openedDatabase: DatabaseQueue, now: @escaping @Sendable () -> Int64) {
        self.path = path
        self.database = openedDatabase
        self.logger = Logger(label: "outbox", factory: { _ in SwiftLogNoOpLogHandler() })
        self.now = now
        self.managerScope = nil
        self.openReport = OutboxOpenReport(
            created: false, appliedMigrations: [], movedAsidePath: nil, corruption: nil)
    }

    /// A view sharing `base`'s connection, scoped to one manager (``scoped(toManager:)``).
    init(sharing base: OutboxStore, managerScope: String) {
        self.path = base.path
        self.database = base.database
        self.logger = base.logger
        self.now = base.now
        self.openReport = base.openReport
        self.managerScope = managerScope
    }

    /// The current time in Unix epoch milliseconds.
    public static let wallClockMilliseconds: @Sendable () -> Int64 = { SystemClock.epochMilliseconds() }

    private struct OpenFailure: Error {
        var error: OutboxError
        /// The file exists but is not a healthy database: move it aside and start afresh.
        var isCorruption: Bool

        init(error: OutboxError, isCorruption: Bool) {
            self.error = error
            self.isCorruption = isCorruption
        }

        /// SQLite's `error` while opening: `corrupt` when the file is damaged, else `otherwise`.
        init(_ error: DatabaseError, path: String, otherwise code: OutboxError.Code) {
            let corrupt = OutboxStore.isCorruption(error)
            self.init(
                error: OutboxError(code: corrupt ? .corrupt : code, path: path, message: "\(error)"),
                isCorruption: corrupt)
        }
    }

    private static func openAndMigrate(
        path: String, synchronous: OutboxSynchronous
    ) throws -> (DatabaseQueue, [String]) {
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(10)
        configuration.label = "outbox"
        let synchronousPragma = synchronous == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            // auto_vacuum only takes effect on a database without tables (a new one); it lets prune()
            // hand freed pages back to the file system with incremental_vacuum.
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
        }

        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch let error as DatabaseError {
            throw OpenFailure(
                error: OutboxError(code: .cannotOpen, path: path, message: "\(error)"),
                isCorruption: Self.isCorruption(error))
        } catch {
            throw OpenFailure(
                error: OutboxError(code: .cannotOpen, path: path, message: "\(error)"), isCorruption: false)
        }

        do {
            // GRDB's WAL setup runs after prepareDatabase and sets synchronous=NORMAL; a DatabaseQueue has
            // one connection, so setting it here holds for the store's lifetime.
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronousPragma)") }
            let check = try queue.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            if check != ["ok"] {
                try? queue.close()
                throw OpenFailure(
                    error: OutboxError(
                        code: .corrupt, path: path,
                        message: "quick_check failed: \(check.prefix(3).joined(separator: "; "))"),
                    isCorruption: true)
            }
        } catch let failure as OpenFailure {
            throw failure
        } catch let error as DatabaseError {
            try? queue.close()
            throw OpenFailure(error, path: path, otherwise: .cannotOpen)
        }

        var migrator = DatabaseMigrator()
        for migration in OutboxMigrations.all {
            migrator.registerMigration(migration.identifier) { db in
                try db.execute(sql: migration.sql)
            }
        }
        do {
            let applied = try queue.read { db in try migrator.appliedIdentifiers(db) }
            try migrator.migrate(queue)
            let pending = OutboxMigrations.all.map(\.identifier).filter { !applied.contains($0) }
            if try queue.read({ db in try migrator.hasBeenSuperseded(db) }) {
                try? queue.close()
                throw OpenFailure(
                    error: OutboxError(
                        code: .migrationFailed, path: path,
                        message: "the outbox was written by a newer gateway (unknown migrations); refusing to use it"),
                    isCorruption: false)
            }
            return (queue, pending)
        } catch let failure as OpenFailure {
            throw failure
        } catch let error as DatabaseError {
            try? queue.close()
            throw OpenFailure(error, path: path, otherwise: .migrationFailed)
        }
    }

    private static func isCorruption(_ error: DatabaseError) -> Bool {
        error.resultCode == .SQLITE_NOTADB || error.resultCode == .SQLITE_CORRUPT
    }

    private static func moveAside(path: String, to aside: String) throws {
        let manager = FileManager.default
        try manager.moveItem(atPath: path, toPath: aside)
        for suffix in ["-wal", "-shm"] where manager.fileExists(atPath: path + suffix) {
            try manager.moveItem(atPath: path + suffix, toPath: aside + suffix)
        }
    }

    /// Closes the database; further calls fail with `database` errors.
    public func close() throws(OutboxError) {
        try self.run("close") { try self.database.close() }
    }

    /// Runs `body` in one deferred read transaction.
    ///
    /// Not GRDB's `read`: that one switches `PRAGMA query_only` on and off around every read, and each
    /// change of that pragma expires every prepared statement of the connection, so the delivery
    /// worker's cached statements were compiled again after every page it read.
    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        try self.database.unsafeRead { db in
            if db.isInsideTransaction { return try body(db) }
            var result: T?
            try db.inTransaction(.deferred) {
                result = try body(db)
                return .commit
            }
            guard let result else {
                throw OutboxError(code: .database, path: self.path, message: "read returned nothing")
            }
            return result
        }
    }

    /// Runs `body`, mapping any error to an ``OutboxError`` naming `step`.
    func run<T>(_ step: String, _ body: () throws -> T) throws(OutboxError) -> T {
        do {
            return try body()
        } catch let error as OutboxError {
            throw error
        } catch let error as DatabaseError {
            throw OutboxError(
                code: .database, path: self.path, message: "\(step): \(error)",
                sqliteCode: error.extendedResultCode.rawValue)
        } catch {
            throw OutboxError(code: .database, path: self.path, message: "\(step): \(error)")
        }
    }
}
