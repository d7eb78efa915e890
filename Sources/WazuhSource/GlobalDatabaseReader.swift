import Logging
import Synchronization
import Timekeeping

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
    private let clock: any GatewayClock
    private let logger: Logger
    private let state: Mutex<State>

    /// - Parameter clock: decides when a full read is due (`fullReadInterval`) and times the transaction.
    public init(
        configuration: Configuration, clock: any GatewayClock = SystemClock(),
        logger: Logger = Logger(label: "wazuh.source", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.clock = clock
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
            state.connection = try SQLiteReadConnection(
                path: path, busyTimeoutMilliseconds: Int32(clamping: configuration.busyTimeout.wholeMilliseconds))
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
        let start = clock.now
        try connection.execute("BEGIN")
        do throws(WazuhSourceError) {
            let schemaVersion = try connection.integer("PRAGMA schema_version") ?? 0
            let schema: GlobalDatabaseSchema
            if let known = state.schema, state.schemaVersion == schemaVersion {
                schema = known
            } else {
                schema = try GlobalDatabaseSchema.detect(connection)
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

    /// An incremental read: selects only what decides a change, lets ``IncrementalReadPlan`` decide
    /// what to copy from `previous` and what to read afresh, and carries the plan out. Returns `nil`,
    /// having stopped early, when so many agents moved that a full read is cheaper.
    static func readMovedAgents(
        _ connection: SQLiteReadConnection, schema: GlobalDatabaseSchema, previous: AgentSnapshot
    ) throws(WazuhSourceError) -> (snapshot: AgentSnapshot, fetched: Int)? {
        var plan = IncrementalReadPlan(previous: previous)
        var previousID: Int64 = 0
        try connection.scanRows(schema.agentKeyQuery) { (row) throws(WazuhSourceError) -> Bool in
            guard let id = row.columnInt64(0), id > previousID, id <= Int64(Int32.max) else { return true }
            previousID = id
            return plan.add(
                AgentKey(
                    id: Int32(id), status: AgentSnapshot.rawStatus(status(row.columnBytes(1))),
                    dateAdd: row.columnInt64(2) ?? 0, disconnectionTime: row.columnInt64(3)))
        }
        guard let steps = plan.finish() else { return nil }
        var builder = AgentSnapshot.Builder(capacity: plan.rows, sharingTablesOf: previous)
        try connection.withStatement(schema.agentByIDQuery) { (statement) throws(WazuhSourceError) in
            for step in steps {
                switch step {
                case .copy(let range):
                    builder.appendCopies(of: previous, range)
                case .fetch(let id):
                    try statement.forEachRow(binding: Int64(id)) { row in append(row, id: id, to: &builder) }
                }
            }
        }
        return (builder.finish(), plan.moved)
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
            nodeName: row.columnBytes(8),
            groups: row.columnBytes(9))
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
