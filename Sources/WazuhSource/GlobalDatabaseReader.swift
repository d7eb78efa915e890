import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads every agent of Wazuh's global.db in one short read transaction, without ever getting in
/// the way of wazuh-db for longer than that transaction.
///
/// - Opens the file read-only (`SQLITE_OPEN_READONLY`); never changes the journal mode, never uses
///   `immutable=1`.
/// - Each ``read()`` runs `BEGIN; <schema check>; SELECT …; COMMIT` and leaves no transaction open.
///   The connection itself stays open between reads; it holds no lock while idle.
/// - A busy timeout covers wazuh-db's brief exclusive lock at COMMIT; if it still answers
///   `SQLITE_BUSY`, the read is retried a few times with a short, growing backoff.
/// - Detects the schema (``GlobalDatabaseSchema``) and re-detects it when `PRAGMA schema_version`
///   moves (an in-place upgrade).
/// - Notices the file being replaced (a new inode after an upgrade or restore) and reopens, and the
///   read permission being taken away (`access(2)`, no descriptor opened: that would drop SQLite's locks).
/// - Failures are ``WazuhSourceError``s naming the path and the problem; the next read starts
///   afresh (reopening if needed).
///
/// Thread-safe: reads are serialised by an internal lock. A read blocks its thread for the
/// duration of the SELECT (milliseconds at 100k agents) plus any busy wait.
public final class GlobalDatabaseReader: Sendable {
    /// How the reader opens and waits for the database.
    public struct Configuration: Sendable {
        /// Path of global.db (`/var/ossec/queue/db/global.db` on 4.x).
        public var path: String
        /// SQLite busy timeout per attempt.
        public var busyTimeout: Duration
        /// Attempts after the first when SQLite still answers `SQLITE_BUSY`.
        public var busyRetries: Int
        /// Pause before the first retry; doubles on each further retry.
        public var busyBackoff: Duration
        /// Incremental reads: select only what decides a change (id, status, registration and
        /// disconnection times) and fetch the other fields only for agents that moved, taking them
        /// from the previous read for the rest. `false` reads every field of every agent each time.
        public var incrementalReads: Bool
        /// With incremental reads, every field of every agent is read again at least this often,
        /// so the fields of agents that did not move (keepalive, IP, status code) stay this fresh.
        public var fullReadInterval: Duration

        public init(
            path: String, busyTimeout: Duration = .milliseconds(50), busyRetries: Int = 4,
            busyBackoff: Duration = .milliseconds(5), incrementalReads: Bool = true,
            fullReadInterval: Duration = .seconds(60)
        ) {
            self.path = path
            self.busyTimeout = busyTimeout
            self.busyRetries = busyRetries
            self.busyBackoff = busyBackoff
            self.incrementalReads = incrementalReads
            self.fullReadInterval = fullReadInterval
        }
    }

    /// The outcome of one successful read.
    public struct Read: Sendable {
        /// Every agent but 000.
        public var snapshot: AgentSnapshot
        public var schema: GlobalDatabaseSchema
        /// `true` when this read (re)opened the file: the first read, or after a replacement or error.
        public var opened: Bool
        /// How long the read transaction was open (the time wazuh-db could have been delayed).
        public var transactionDuration: Duration
        /// SQLITE_BUSY retries this read needed.
        public var busyRetries: Int
        /// `true` when every field of every agent was read; `false` for an incremental read.
        public var fullRead: Bool = true
        /// Agents whose every field was read (all of them in a full read; those that moved otherwise).
        public var agentsFetched: Int = 0
    }

    private struct State {
        var connection: SQLiteReadConnection?
        var identity: FileIdentity?
        var schemaVersion: Int64?
        var schema: GlobalDatabaseSchema?
        /// Agents found by the previous read: sizes the next snapshot's buffers.
        var lastCount = 1024
        /// The previous read's snapshot, the source of unchanged agents' fields in an incremental read.
        var previous: AgentSnapshot?
        /// When every field was last read.
        var lastFullRead: ContinuousClock.Instant?
        /// Whether the previous incremental read found so many moved agents that a full read is cheaper.
        var busyFleet = false

        /// Forgets the connection and everything read through it.
        mutating func reset() {
            connection = nil
            identity = nil
            schemaVersion = nil
            schema = nil
            previous = nil
            lastFullRead = nil
            busyFleet = false
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let state: Mutex<State>

    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "wazuh.source", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.logger = logger
        self.state = Mutex(State())
    }

    /// Convenience for `init(configuration: .init(path: path))`.
    public convenience init(
        path: String, logger: Logger = Logger(label: "wazuh.source", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.init(configuration: Configuration(path: path), logger: logger)
    }

    /// Reads every agent (agent 000 excluded).
    /// - Throws: ``WazuhSourceError`` (`fileMissing`, `permissionDenied`, `notARegularFile`,
    ///   `notADatabase`, `notAWazuhDatabase`, `busy`, `readFailed`).
    public func read() throws(WazuhSourceError) -> Read {
        try state.withLock { (state: inout State) throws(WazuhSourceError) -> Read in
            var attempt = 0
            var backoff = configuration.busyBackoff
            while true {
                do throws(WazuhSourceError) {
                    var read = try readOnce(&state)
                    read.busyRetries = attempt
                    return read
                } catch  where error.code == .busy && attempt < configuration.busyRetries {
                    attempt += 1
                    logger.debug(
                        "global.db busy, retrying",
                        metadata: ["wazuh.path": "\(configuration.path)", "wazuh.attempt": "\(attempt)"])
                    sleep(for: backoff)
                    backoff = backoff * 2
                } catch {
                    if error.code != .busy { state.reset() }
                    throw error
                }
            }
        }
    }

    /// Closes the connection (the next read reopens it).
    public func close() {
        state.withLock { state in state.reset() }
    }

    private func readOnce(_ state: inout State) throws(WazuhSourceError) -> Read {
        let path = configuration.path
        let identity = try FileIdentity(checking: path)
        var opened = false
        if state.connection == nil || state.identity != identity {
            if state.connection != nil {
                logger.info("global.db was replaced, reopening", metadata: ["wazuh.path": "\(path)"])
            }
            state.reset()
            try FileIdentity.checkReadable(path)
            let milliseconds =
                configuration.busyTimeout.components.seconds * 1000
                + configuration.busyTimeout.components.attoseconds / 1_000_000_000_000_000
            state.connection = try SQLiteReadConnection(
                path: path, busyTimeoutMilliseconds: Int32(clamping: milliseconds))
            state.identity = identity
            opened = true
        } else if access(path, R_OK) != 0, errno == EACCES || errno == EPERM {
            // The open connection would go on reading after the permission was taken away; report it now,
            // as the next start would, instead of at the next restart.
            throw WazuhSourceError(
                code: .permissionDenied, path: path,
                message: "the database file is no longer readable (the gateway needs group wazuh or root)")
        }
        guard let connection = state.connection else {
            throw WazuhSourceError(code: .readFailed, path: path, message: "no connection")
        }
        let clock = ContinuousClock()
        let start = clock.now
        try connection.execute("BEGIN")
        do throws(WazuhSourceError) {
            let schemaVersion = try connection.integer("PRAGMA schema_version") ?? 0
            let schema: GlobalDatabaseSchema
            if let known = state.schema, state.schemaVersion == schemaVersion {
                schema = known
            } else {
                schema = try Self.detectSchema(connection)
                state.schema = schema
                state.schemaVersion = schemaVersion
                state.previous = nil
            }
            var incremental: (snapshot: AgentSnapshot, fetched: Int)?
            if configuration.incrementalReads, !state.busyFleet, let previous = state.previous,
                let lastFullRead = state.lastFullRead, clock.now - lastFullRead < configuration.fullReadInterval
            {
                incremental = try Self.readMovedAgents(connection, schema: schema, previous: previous)
                state.busyFleet = incremental == nil
            } else {
                state.busyFleet = false
            }
            let snapshot: AgentSnapshot
            if let incremental {
                snapshot = incremental.snapshot
            } else {
                snapshot = try Self.readAgents(connection, schema: schema, capacity: state.lastCount + 64)
                state.lastFullRead = clock.now
            }
            try connection.execute("COMMIT")
            state.lastCount = snapshot.count
            state.previous = configuration.incrementalReads ? snapshot : nil
            return Read(
                snapshot: snapshot, schema: schema, opened: opened, transactionDuration: clock.now - start,
                busyRetries: 0, fullRead: incremental == nil, agentsFetched: incremental?.fetched ?? snapshot.count)
        } catch {
            if connection.inTransaction {
                try? connection.execute("ROLLBACK")
            }
            throw error
        }
    }

    static func detectSchema(_ connection: SQLiteReadConnection) throws(WazuhSourceError) -> GlobalDatabaseSchema {
        var columns: [String] = []
        try connection.forEachRow("PRAGMA table_info(agent)") { row in
            if let name = row.columnBytes(1) {
                columns.append(String(decoding: name, as: UTF8.self))
            }
        }
        guard !columns.isEmpty else {
            throw WazuhSourceError(
                code: .notAWazuhDatabase, path: connection.path, message: "the database has no agent table")
        }
        var hasMetadata = false
        try connection.forEachRow("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metadata'") { _ in
            hasMetadata = true
        }
        let generation: GlobalDatabaseSchema.Generation
        if hasMetadata {
            var version: Int?
            try connection.forEachRow("SELECT value FROM metadata WHERE key = 'db_version'") { row in
                if let bytes = row.columnBytes(0) {
                    version = Int(String(decoding: bytes, as: UTF8.self))
                }
            }
            generation = .wazuh4(dbVersion: version)
        } else {
            generation = .wazuh5(userVersion: Int(try connection.integer("PRAGMA user_version") ?? 0))
        }
        let schema = GlobalDatabaseSchema(generation: generation, columns: columns)
        let missing = schema.missingRequiredColumns
        guard missing.isEmpty else {
            throw WazuhSourceError(
                code: .notAWazuhDatabase, path: connection.path,
                message: "the agent table lacks \(missing.joined(separator: ", ")) (Wazuh before 4.1 is unsupported)")
        }
        return schema
    }

    static func readAgents(
        _ connection: SQLiteReadConnection, schema: GlobalDatabaseSchema, capacity: Int
    ) throws(WazuhSourceError) -> AgentSnapshot {
        var builder = AgentSnapshot.Builder(capacity: capacity)
        var previousID: Int64 = 0
        try connection.forEachRow(schema.agentQuery) { row in
            guard let id = row.columnInt64(0), id > previousID, id <= Int64(Int32.max) else { return }
            previousID = id
            append(row, id: Int32(id), to: &builder)
        }
        return builder.finish()
    }

    /// An incremental read: selects only what decides a change, copies agents that did not move
    /// from `previous` (in runs), and reads every field of those that did (registered, status
    /// changed, re-registered, disconnected again). Returns `nil`, having stopped early, when so
    /// many agents moved that a full read is cheaper.
    static func readMovedAgents(
        _ connection: SQLiteReadConnection, schema: GlobalDatabaseSchema, previous: AgentSnapshot
    ) throws(WazuhSourceError) -> (snapshot: AgentSnapshot, fetched: Int)? {
        let entries = previous.entries
        // A point query costs about as much as stepping a few dozen rows of a full read.
        let limit = 64 + entries.count / 32
        var plan: [IncrementalStep] = []
        var run = 0..<0
        var cursor = 0
        var moved = 0
        var rows = 0
        var previousID: Int64 = 0
        var gaveUp = false
        try connection.scanRows(schema.agentKeyQuery) { (row) throws(WazuhSourceError) -> Bool in
            guard let id = row.columnInt64(0), id > previousID, id <= Int64(Int32.max) else { return true }
            previousID = id
            rows += 1
            let key = AgentKey(
                id: Int32(id), status: AgentSnapshot.rawStatus(status(row.columnBytes(1))),
                dateAdd: row.columnInt64(2) ?? 0, disconnectionTime: row.columnInt64(3))
            while cursor < entries.count, entries[cursor].id < key.id { cursor += 1 }
            if cursor < entries.count, entries[cursor].id == key.id, key.matches(entries[cursor]) {
                if run.upperBound == cursor, !run.isEmpty {
                    run = run.lowerBound..<(cursor + 1)
                } else {
                    if !run.isEmpty { plan.append(.copy(run)) }
                    run = cursor..<(cursor + 1)
                }
                cursor += 1
                return true
            }
            if !run.isEmpty { plan.append(.copy(run)) }
            run = 0..<0
            plan.append(.fetch(key.id))
            moved += 1
            gaveUp = moved > limit
            return !gaveUp
        }
        if gaveUp { return nil }
        if !run.isEmpty { plan.append(.copy(run)) }
        var builder = AgentSnapshot.Builder(capacity: rows, nodeNames: previous.nodeNames)
        try connection.withStatement(schema.agentByIDQuery) { (statement) throws(WazuhSourceError) in
            for step in plan {
                switch step {
                case .copy(let range):
                    builder.appendCopies(of: previous, range)
                case .fetch(let id):
                    try statement.forEachRow(binding: Int64(id)) { row in append(row, id: id, to: &builder) }
                }
            }
        }
        return (builder.finish(), moved)
    }

    /// Appends the agent of a row selected with the full read's columns.
    @inline(__always)
    private static func append(_ row: OpaquePointer, id: Int32, to builder: inout AgentSnapshot.Builder) {
        builder.append(
            id: id,
            name: row.columnBytes(1) ?? UnsafeRawBufferPointer(start: nil, count: 0),
            ip: row.columnBytes(2),
            status: Self.status(row.columnBytes(3)),
            lastKeepalive: row.columnInt64(4),
            dateAdd: row.columnInt64(5) ?? 0,
            disconnectionTime: row.columnInt64(6),
            statusCode: row.columnInt64(7).map { Int(truncatingIfNeeded: $0) },
            nodeName: row.columnBytes(8))
    }

    @inline(__always)
    static func status(_ bytes: UnsafeRawBufferPointer?) -> ConnectionStatus {
        guard let bytes, let base = bytes.baseAddress else { return .unknown }
        let expected: (StaticString, ConnectionStatus)
        switch bytes.count {
        case 6: expected = ("active", .active)
        case 7: expected = ("pending", .pending)
        case 12: expected = ("disconnected", .disconnected)
        case 15: expected = ("never_connected", .neverConnected)
        default: return .unknown
        }
        return memcmp(base, expected.0.utf8Start, bytes.count) == 0 ? expected.1 : .unknown
    }

    private func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR {
            request = remaining
        }
    }
}

/// One step of building an incremental read's snapshot.
enum IncrementalStep {
    /// Copy these entries of the previous snapshot as they are.
    case copy(Range<Int>)
    /// Read every field of this agent.
    case fetch(Int32)
}

/// What decides whether an agent moved between two reads.
struct AgentKey {
    var id: Int32
    var status: UInt8
    var dateAdd: Int64
    var disconnectionTime: Int64?

    @inline(__always)
    func matches(_ entry: AgentSnapshot.Entry) -> Bool {
        guard entry.status == status, entry.dateAdd == dateAdd else { return false }
        let had = entry.flags & AgentSnapshot.Entry.hasDisconnectionTime != 0
        guard let disconnectionTime else { return !had }
        return had && entry.disconnectionTime == disconnectionTime
    }
}

/// Device and inode of a file: a changed identity means the file was replaced.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64

    /// Stats `path`, mapping failures to typed errors.
    init(checking path: String) throws(WazuhSourceError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                throw WazuhSourceError(code: .fileMissing, path: path, message: "the database file does not exist")
            case EACCES, EPERM:
                throw WazuhSourceError(
                    code: .permissionDenied, path: path,
                    message: "cannot reach the database file (the gateway needs group wazuh or root)")
            default:
                throw WazuhSourceError(code: .readFailed, path: path, message: "stat failed with errno \(code)")
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw WazuhSourceError(
                code: .notARegularFile, path: path, message: "the database path is not a regular file")
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// Opens and closes `path` to tell a permission problem apart from other open failures.
    static func checkReadable(_ path: String) throws(WazuhSourceError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == EACCES || code == EPERM {
                throw WazuhSourceError(
                    code: .permissionDenied, path: path,
                    message: "cannot open the database file for reading (the gateway needs group wazuh or root)")
            }
            throw WazuhSourceError(code: .readFailed, path: path, message: "open failed with errno \(code)")
        }
        close(fd)
    }
}
