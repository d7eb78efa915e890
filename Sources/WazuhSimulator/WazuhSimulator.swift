import Foundation
import GRDB
import Logging
import Timekeeping

/// A Wazuh manager simulator: writes a global.db the way wazuh-db does.
///
/// - Creates the real schema of the chosen version (``SimulatedSchema``), agent 000 on 4.x, and
///   N agents with realistic names, addresses, OS fields and random 64-hex `internal_key`s.
/// - Uses the rollback journal (`journal_mode=DELETE`) and, like wazuh-db, one long-lived write
///   transaction: every ``apply(_:)`` writes inside it, and it is committed when the database has
///   been idle for `commitIdle` or the transaction is `commitMaxAge` old (checked by
///   ``commitIfDue()`` and by ``run(_:until:)``), or explicitly by ``commit()``.
/// - Times written to the database come from ``now`` (Unix seconds): ``run(_:until:)`` follows the
///   wall clock; step-driven tests set it themselves.
///
/// Deterministic for a given seed and sequence of actions. Not thread-safe: drive it from one task.
/// Unlike wazuh-db, the writer has a busy timeout (`writerBusyTimeout`) so a reader delays its
/// COMMIT instead of failing it; ``commitDurations`` records how long each COMMIT took.
public final class WazuhSimulator {
    /// Everything that shapes a simulation.
    public struct Configuration: Sendable {
        public var databasePath: String
        public var schema: SimulatedSchema
        public var agentCount: Int
        public var seed: UInt64
        /// Commit once no write happened for this long (wazuh-db `commit_time_min`, 10 s).
        public var commitIdle: Duration
        /// Commit once the transaction is this old (wazuh-db `commit_time_max`, 60 s).
        public var commitMaxAge: Duration
        /// Agent keepalive interval; `nil` uses the version's (10 s up to 4.12, 20 s after).
        public var notifyInterval: Duration?
        /// After a restart storm, agents come back spread over this period.
        public var reconnectPeriod: Duration
        /// Cluster nodes agents report to (`node_name`).
        public var clusterNodes: [String]
        /// Host name of the manager (agent 000's name).
        public var managerName: String
        /// Share of the initial fleet that is active (the rest: disconnected, pending, never connected).
        public var initiallyActive: Double
        /// How long the writer's COMMIT waits for readers.
        public var writerBusyTimeout: Duration
        /// Replace an existing file at `databasePath`.
        public var replaceExisting: Bool
        /// Where to write the ground-truth log of committed transitions (``GroundTruthLog``); `nil`: none.
        public var groundTruthLogPath: String?

        public init(
            databasePath: String, schema: SimulatedSchema = .wazuh4(minor: 14), agentCount: Int = 100,
            seed: UInt64 = 1, commitIdle: Duration = .seconds(10), commitMaxAge: Duration = .seconds(60),
            notifyInterval: Duration? = nil, reconnectPeriod: Duration = .seconds(60),
            clusterNodes: [String] = ["node01"], managerName: String = "wazuh-manager", initiallyActive: Double = 0.9,
            writerBusyTimeout: Duration = .seconds(5), replaceExisting: Bool = true, groundTruthLogPath: String? = nil
        ) {
            self.databasePath = databasePath
            self.schema = schema
            self.agentCount = agentCount
            self.seed = seed
            self.commitIdle = commitIdle
            self.commitMaxAge = commitMaxAge
            self.notifyInterval = notifyInterval
            self.reconnectPeriod = reconnectPeriod
            self.clusterNodes = clusterNodes.isEmpty ? ["node01"] : clusterNodes
            self.managerName = managerName
            self.initiallyActive = initiallyActive
            self.writerBusyTimeout = writerBusyTimeout
            self.replaceExisting = replaceExisting
            self.groundTruthLogPath = groundTruthLogPath
        }
    }

    public let configuration: Configuration
    /// Unix seconds written as the time of every change (the simulated clock, truncated).
    /// Setting it moves the simulated clock to the start of that second.
    public var now: Int64 {
        get { nowMilliseconds / 1000 }
        set { nowMilliseconds = newValue * 1000 }
    }
    /// The simulated clock in Unix milliseconds: scheduled returns and promotions are due by it, so
    /// an agent's return and its first keepalive stay apart in real time even within one second.
    public var nowMilliseconds: Int64
    /// Duration of every COMMIT so far (how long readers made the writer wait, plus the write itself).
    public private(set) var commitDurations: [Duration] = []
    /// Number of committed transactions.
    public var commits: Int { commitDurations.count }

    var random: SimulatorRandom
    var agents: [Int: SimulatedAgent] = [:]
    var nextID: Int
    /// Restart-storm returns and pending → active promotions, by due time (Unix milliseconds).
    var schedule: [(due: Int64, agentID: Int, action: SimulatorAction)] = []
    let database: DatabaseQueue
    let logger: Logger
    private let clock = ContinuousClock()
    private var transactionStart: ContinuousClock.Instant?
    private var lastWrite: ContinuousClock.Instant?
    /// The agents as of the last COMMIT (what readers see), for the ground-truth log.
    private var committedAgents: [Int: SimulatedAgent] = [:]
    private let groundTruth: GroundTruthLog?

    /// Creates the database and its fleet (committed), ready to simulate.
    public init(
        configuration: Configuration, now: Int64 = Int64(Date().timeIntervalSince1970),
        logger: Logger = Logger(label: "wazuh.simulator", factory: { _ in SwiftLogNoOpLogHandler() })
    ) throws {
        self.configuration = configuration
        self.nowMilliseconds = now * 1000
        self.logger = logger
        self.random = SimulatorRandom(seed: configuration.seed)
        self.nextID = 1
        self.groundTruth = try configuration.groundTruthLogPath.map { try GroundTruthLog(path: $0) }
        let path = configuration.databasePath
        if configuration.replaceExisting {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: path + suffix)
            }
        }
        var grdb = GRDB.Configuration()
        grdb.allowsUnsafeTransactions = true
        grdb.busyMode = .timeout(configuration.writerBusyTimeout.fractionalSeconds)
        grdb.label = "wazuh-simulator"
        database = try DatabaseQueue(path: path, configuration: grdb)
        try database.inDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = DELETE")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "BEGIN IMMEDIATE")
            for statement in configuration.schema.creationStatements {
                try db.execute(sql: statement)
            }
            if configuration.schema.hasManagerRow {
                try db.execute(
                    sql: """
                        INSERT INTO agent (id, name, ip, register_ip, internal_key, date_add, last_keepalive, \
                        connection_status, version, os_name, os_platform, node_name) \
                        VALUES (0, ?, '127.0.0.1', '127.0.0.1', NULL, ?, 253402300799, 'active', \
                        'Wazuh v\(configuration.schema)', 'Ubuntu', 'ubuntu', ?)
                        """,
                    arguments: [configuration.managerName, now - 86_400 * 400, configuration.clusterNodes[0]])
            }
            try db.execute(sql: "COMMIT")
        }
        try populate(count: configuration.agentCount)
        try commit()
    }

    /// The keepalive interval in use.
    public var notifyInterval: Duration { configuration.notifyInterval ?? configuration.schema.notifyInterval }

    /// Schedules `action` for agent `id`, `delay` milliseconds after the simulated clock.
    func schedule(_ action: SimulatorAction, agentID id: Int, after delay: Int64) {
        schedule.append((nowMilliseconds + delay, id, action))
    }

    /// A pending agent's first keepalive comes one second to one notify interval after it connected.
    func scheduleActivation(agentID id: Int) {
        let notify = max(notifyInterval.wholeMilliseconds, 1000)
        schedule(.activate(agentID: id), agentID: id, after: Int64.random(in: 1000...notify, using: &random))
    }

    /// Ids of the simulated agents, ascending.
    public var agentIDs: [Int] { agents.keys.sorted() }

    /// The simulated connection status of agent `id` (`active`, `disconnected`, …), as last written.
    public func status(of id: Int) -> String? { agents[id]?.status }

    /// Ids of agents whose written status is `status`.
    public func agents(withStatus status: String) -> [Int] {
        agents.values.filter { $0.status == status }.map(\.id).sorted()
    }

    /// Whether a write transaction is open (written but uncommitted changes).
    public var hasOpenTransaction: Bool { transactionStart != nil }

    /// Commits the open write transaction, if any.
    public func commit() throws {
        guard transactionStart != nil else { return }
        let start = clock.now
        try database.inDatabase { db in try db.execute(sql: "COMMIT") }
        commitDurations.append(clock.now - start)
        transactionStart = nil
        lastWrite = nil
        if let groundTruth {
            let committedAt = Int64(Date().timeIntervalSince1970 * 1000)
            try groundTruth.append(committedTransitions(since: committedAgents, commit: commits, at: committedAt))
            committedAgents = agents
        }
    }

    /// Commits when wazuh-db would: idle for `commitIdle`, or transaction `commitMaxAge` old.
    /// Returns whether it committed.
    @discardableResult
    public func commitIfDue() throws -> Bool {
        guard let transactionStart, let lastWrite else { return false }
        let current = clock.now
        guard
            current - lastWrite >= configuration.commitIdle || current - transactionStart >= configuration.commitMaxAge
        else { return false }
        try commit()
        return true
    }

    /// Runs `body` inside the long-lived write transaction, opening it if needed.
    func write(_ body: (Database) throws -> Void) throws {
        try database.inDatabase { db in
            if transactionStart == nil {
                try db.execute(sql: "BEGIN IMMEDIATE")
                transactionStart = clock.now
            }
            try body(db)
        }
        lastWrite = clock.now
    }

    /// Rolls back uncommitted writes (and forgets nothing in memory: only for tests that abandon a simulator).
    public func close() throws {
        if transactionStart != nil {
            try database.inDatabase { db in try db.execute(sql: "ROLLBACK") }
            transactionStart = nil
        }
        try database.close()
    }
}
