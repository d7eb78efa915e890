import Foundation
import Logging
import Synchronization
import Timekeeping

/// Watches global.db and hands out changes, one read at a time, never losing one.
///
/// The caller owns the snapshot. The contract:
/// ```swift
/// var snapshot = try outbox.loadSnapshot()          // nil on the very first start
/// while true {
///     let update = try await monitor.nextUpdate(after: snapshot)
///     try outbox.append(update.changes, snapshot: update.snapshot)   // one transaction
///     snapshot = update.snapshot                     // only once persisted
/// }
/// ```
/// Every update is the diff between the snapshot passed in and a fresh read. A caller that failed
/// to persist simply calls again with its old snapshot: the monitor notices it did not move on,
/// reads at once, and yields the same changes again (plus any newer ones) — nothing is lost and
/// nothing needs confirming. With `nil` the first read is returned as a baseline with no changes.
/// With a stored snapshot the first call reads at once, so changes made while the gateway was
/// down are reported.
///
/// Between updates the monitor waits for ``DatabaseChangeWatcher`` signals (inotify, with a poll
/// interval as safety net); reads that find no change are not returned. Read errors are logged,
/// recorded in ``health`` and retried after 50 ms, doubling up to the poll interval; they never end
/// the loop. Only
/// cancellation does (`CancellationError`), and it stops the watcher thread.
///
/// `nextUpdate(after:)` is meant for one caller at a time; ``health`` may be read from anywhere.
public final class AgentStatusMonitor: Sendable {
    /// What to watch and how.
    public struct Configuration: Sendable {
        /// Path of global.db.
        public var databasePath: String
        /// Optional path of client.keys, compared with global.db as a second witness.
        public var clientKeysPath: String?
        /// Safety-net read interval when no file event arrives.
        public var pollInterval: Duration
        /// SQLite busy timeout for each read attempt.
        public var busyTimeout: Duration
        /// Quiet time that ends a burst of file events.
        public var debounce: Duration
        /// Minimum time between two reads triggered by file events.
        public var minimumGap: Duration
        /// Where status is read: `nil` (or `.file`) global.db only, `.wazuhDB` the socket only,
        /// ``autoSource`` the socket when it answers, else the file (see ``AgentSourceSelector``).
        public var source: SourceSelection
        /// wazuh-db's socket (`queue/db/wdb`); needed unless `source` is `.file`.
        public var socketPath: String?
        /// How often the socket is asked (it sends no change notifications).
        public var socketPollInterval: Duration
        /// Longest time between two reads of every agent through the socket; reads in between ask
        /// only for rows whose status may have moved (see ``WazuhDBSocketReader``).
        public var socketFullSweepInterval: Duration
        /// Longest wait for one wazuh-db reply.
        public var socketTimeout: Duration
        /// After the socket failed, how long the file may lag what the socket showed before it is
        /// taken as the truth (longer than wazuh-db's `commit_time_max`, 60 s).
        public var fileCatchUpLimit: Duration

        /// Which source(s) the monitor may read.
        public enum SourceSelection: String, Sendable, Hashable, CaseIterable {
            case file
            case wazuhDB = "wazuh-db"
            case auto
        }

        public init(
            databasePath: String, clientKeysPath: String? = nil, pollInterval: Duration = .seconds(5),
            busyTimeout: Duration = .milliseconds(50), debounce: Duration = .zero,
            minimumGap: Duration = .milliseconds(10), source: SourceSelection = .file, socketPath: String? = nil,
            socketPollInterval: Duration = .milliseconds(500), socketFullSweepInterval: Duration = .seconds(60),
            socketTimeout: Duration = .seconds(2), fileCatchUpLimit: Duration = .seconds(75)
        ) {
            self.socketFullSweepInterval = socketFullSweepInterval
            self.databasePath = databasePath
            self.clientKeysPath = clientKeysPath
            self.pollInterval = pollInterval
            self.busyTimeout = busyTimeout
            self.debounce = debounce
            self.minimumGap = minimumGap
            self.source = source
            self.socketPath = socketPath
            self.socketPollInterval = socketPollInterval
            self.socketTimeout = socketTimeout
            self.fileCatchUpLimit = fileCatchUpLimit
        }

        /// The watcher's safety-net interval: the socket's poll interval when the socket may be read.
        var watchInterval: Duration {
            source == .file || socketPath == nil ? pollInterval : min(pollInterval, socketPollInterval)
        }
    }

    private struct State {
        var signals: AsyncStream<DatabaseChangeWatcher.Signal>?
        /// The snapshot of the last update handed out; when the caller passes it back, it has moved on.
        var lastHandedOut: AgentSnapshot?
        var handedOutAny = false
        var keysIdentity: KeysFileIdentity?
        var keys: ClientKeysFile?
        /// Times `nextUpdate(after:)` began waiting for a watcher signal.
        var signalWaits = 0
    }

    public let configuration: Configuration
    private let selector: AgentSourceSelector
    private let watcher: DatabaseChangeWatcher
    private let clock: any GatewayClock
    private let logger: Logger
    private let state = Mutex(State())
    private let healthState = Mutex(SourceHealth())

    /// - Parameter clock: times the retry after a failed read, stamps reads and health (wall time),
    ///   and is handed to the ``GlobalDatabaseReader``.
    public init(
        configuration: Configuration, clock: any GatewayClock = SystemClock(),
        logger: Logger = Logger(label: "wazuh.source", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        let reader = GlobalDatabaseReader(
            configuration: .init(path: configuration.databasePath, busyTimeout: configuration.busyTimeout),
            clock: clock, logger: logger)
        let socket = configuration.socketPath.map {
            WazuhDBSocketReader(
                client: WazuhDBClient(path: $0, timeout: configuration.socketTimeout),
                fullSweepInterval: configuration.socketFullSweepInterval, logger: logger)
        }
        let mode: AgentSourceSelector.Mode =
            switch configuration.source {
            case .file: .only(.file)
            case .wazuhDB: .only(.wazuhDB)
            case .auto: .auto
            }
        self.selector = AgentSourceSelector(
            mode: mode, file: reader, socket: socket, catchUpLimit: configuration.fileCatchUpLimit, logger: logger)
        self.watcher = DatabaseChangeWatcher(
            configuration: .init(
                databasePath: configuration.databasePath, pollInterval: configuration.watchInterval,
                debounce: configuration.debounce, minimumGap: configuration.minimumGap),
            logger: logger)
    }

    /// Wall-clock now, from the injected clock.
    private var wallNow: Date { Date(timeIntervalSince1970: clock.epochSeconds) }

    /// How many times ``nextUpdate(after:)`` began waiting for a file event or poll tick: a test
    /// that must act while the monitor is idle waits for it to grow.
    var signalWaits: Int { state.withLock { $0.signalWaits } }

    /// The source's health right now.
    public var health: SourceHealth { healthState.withLock { $0 } }

    /// Waits for the next read that differs from `previous` (or, with `nil`, for the first
    /// successful read, returned as a baseline). See the type's documentation for the contract.
    /// - Throws: `CancellationError` only.
    public func nextUpdate(after previous: AgentSnapshot?) async throws(CancellationError) -> SourceUpdate {
        let signals = state.withLock { state in
            if let existing = state.signals { return existing }
            let stream = watcher.signals()
            state.signals = stream
            return stream
        }
        let firstCall = state.withLock { !$0.handedOutAny }
        if firstCall, let origin = previous?.origin { selector.resume(after: origin) }
        var readNow = state.withLock { state in
            !state.handedOutAny || state.lastHandedOut != previous
        }
        var iterator = signals.makeAsyncIterator()
        var failures = 0
        while true {
            if Task.isCancelled { throw CancellationError() }
            if !readNow {
                state.withLock { $0.signalWaits += 1 }
                guard await iterator.next() != nil else {
                    if Task.isCancelled { throw CancellationError() }
                    // The watcher stopped on its own (poll failure): start a fresh one.
                    iterator = state.withLock { state in
                        let stream = watcher.signals()
                        state.signals = stream
                        return stream
                    }.makeAsyncIterator()
                    continue
                }
            }
            readNow = false
            let attempt = readRecordingHealth()
            if case .waiting = attempt { continue }
            guard case .read(let read) = attempt else {
                // Try again soon rather than at the next file event or poll tick: a writer holding its
                // lock past the busy timeout, or a file being restored, is usually back within moments.
                try await pause(Self.retryDelay(afterFailures: failures, cap: configuration.pollInterval))
                failures += 1
                readNow = true
                continue
            }
            failures = 0
            let changes = ChangeDetector.changes(from: previous, to: read.snapshot)
            guard previous == nil || !changes.isEmpty else { continue }
            state.withLock { state in
                state.lastHandedOut = read.snapshot
                state.handedOutAny = true
            }
            if read.aheadOfFile, previous != nil, !changes.isEmpty {
                let total = healthState.withLock { health in
                    health.changesSeenBeforeFile += changes.count
                    return health.changesSeenBeforeFile
                }
                logger.info(
                    "changes seen through wazuh-db's socket before global.db had them",
                    metadata: ["wazuh.changes": "\(changes.count)", "wazuh.changes_before_file_total": "\(total)"])
            }
            if !changes.isEmpty {
                logger.debug(
                    "agent changes detected",
                    metadata: ["wazuh.changes": "\(changes.count)", "wazuh.agents": "\(read.snapshot.count)"])
            }
            return SourceUpdate(
                changes: changes, counts: read.snapshot.counts, snapshot: read.snapshot, readAt: wallNow,
                isBaseline: previous == nil)
        }
    }

    /// 50 ms after the first failed read, doubling with each further one, at most `cap`.
    static func retryDelay(afterFailures failures: Int, cap: Duration) -> Duration {
        let delay = Duration.milliseconds(50) * (1 << min(failures, 16))
        return min(delay, max(cap, .milliseconds(50)))
    }

    private func pause(_ delay: Duration) async throws(CancellationError) {
        do {
            try await clock.sleep(for: delay)
        } catch {
            throw CancellationError()
        }
    }

    private enum Attempt {
        case read(SourceRead)
        case waiting
        case failed
    }

    /// What a successful read hands to change detection.
    private struct SourceRead {
        var snapshot: AgentSnapshot
        /// A socket read made while global.db lacked what it showed beyond the previous read.
        var aheadOfFile = false
    }

    /// The source whose read produced the last update (`nil` before the first successful read).
    public var activeSource: AgentStatusSource? { selector.active }

    /// One read, with health bookkeeping and the optional client.keys comparison.
    private func readRecordingHealth() -> Attempt {
        let error: WazuhSourceError
        switch selector.read() {
        case .read(let snapshot, let source, let fileRead, let socketRead, let socketError):
            let comparison = compareClientKeys(with: snapshot)
            healthState.withLock { health in
                health.lastSuccessfulRead = wallNow
                health.consecutiveFailures = 0
                health.lastError = nil
                health.successfulReads += 1
                health.counts = snapshot.counts
                if health.activeSource != nil, health.activeSource != source { health.sourceSwitches += 1 }
                health.activeSource = source
                health.waitingForFileCommit = false
                if let fileRead {
                    health.lastTransactionDuration = fileRead.transactionDuration
                    health.schema = fileRead.schema
                }
                if let socketRead {
                    health.socketReads += 1
                    health.socketQueries += socketRead.queries
                    health.socketBytesReceived += socketRead.bytesReceived
                    health.lastSocketReadDuration = socketRead.duration
                    health.lastSocketError = nil
                }
                if let socketError { health.lastSocketError = socketError }
                if let comparison { health.clientKeys = comparison }
            }
            if let fileRead, fileRead.opened {
                logger.info(
                    "global.db opened",
                    metadata: [
                        "wazuh.path": "\(configuration.databasePath)", "wazuh.schema": "\(fileRead.schema)",
                        "wazuh.agents": "\(snapshot.count)",
                    ])
            }
            if let socketRead, socketRead.opened {
                logger.info(
                    "wazuh-db socket opened",
                    metadata: [
                        "wazuh.socket": "\(configuration.socketPath ?? "")", "wazuh.agents": "\(snapshot.count)",
                        "wazuh.queries": "\(socketRead.queries)", "wazuh.bytes": "\(socketRead.bytesReceived)",
                    ])
            }
            return .read(SourceRead(snapshot: snapshot, aheadOfFile: socketRead?.aheadOfFile ?? false))
        case .waitingForCommit(let socketError):
            healthState.withLock { health in
                if let socketError { health.lastSocketError = socketError }
                health.waitingForFileCommit = true
            }
            return .waiting
        case .failed(let failure, let socketError):
            if let socketError { healthState.withLock { $0.lastSocketError = socketError } }
            error = failure
        }
        let failures = healthState.withLock { health in
            health.consecutiveFailures += 1
            health.failedReads += 1
            health.lastError = error
            health.lastErrorAt = wallNow
            return health.consecutiveFailures
        }
        let metadata: Logger.Metadata = [
            "wazuh.path": "\(error.path ?? configuration.databasePath)", "wazuh.error": "\(error)",
            "wazuh.consecutive_failures": "\(failures)",
        ]
        if error.code == .busy {
            logger.debug("global.db busy, will retry", metadata: metadata)
        } else if failures == 1 || failures.isMultiple(of: 100) {
            logger.error(
                error.path == configuration.databasePath
                    ? "reading global.db failed, will retry" : "reading agent status failed, will retry",
                metadata: metadata)
        }
        return .failed
    }

    /// Re-parses client.keys when it changed and compares it with `snapshot`; logs a change of verdict.
    private func compareClientKeys(with snapshot: AgentSnapshot) -> ClientKeysComparison? {
        guard let path = configuration.clientKeysPath else { return nil }
        let keys: ClientKeysFile
        do throws(WazuhSourceError) {
            let identity = KeysFileIdentity(path: path)
            if let cached = state.withLock({ $0.keysIdentity == identity && identity != nil ? $0.keys : nil }) {
                keys = cached
            } else {
                keys = try ClientKeysFile(path: path)
                state.withLock { state in
                    state.keys = keys
                    state.keysIdentity = identity
                }
            }
        } catch {
            logger.warning("client.keys unreadable", metadata: ["wazuh.path": "\(path)", "wazuh.error": "\(error)"])
            return nil
        }
        let comparison = ClientKeysComparison(keys: keys, snapshot: snapshot)
        let previous = healthState.withLock { $0.clientKeys }
        if comparison != previous, !comparison.isConsistent {
            logger.notice(
                "client.keys and global.db disagree",
                metadata: [
                    "wazuh.removed_but_in_database": "\(comparison.removedButInDatabase.count)",
                    "wazuh.registered_but_not_in_database": "\(comparison.registeredButNotInDatabase.count)",
                    "wazuh.in_database_but_not_in_keys": "\(comparison.inDatabaseButNotInKeys.count)",
                ])
        }
        return comparison
    }
}

/// Inode, size and modification time of client.keys: re-parse only when one of them moved.
private struct KeysFileIdentity: Equatable, Sendable {
    var inode: UInt64
    var size: Int64
    var modifiedSeconds: Int
    var modifiedNanoseconds: Int

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}
