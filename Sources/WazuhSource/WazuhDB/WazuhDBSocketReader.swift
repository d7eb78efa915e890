import Logging
import Synchronization

/// Reads agents through wazuh-db's socket, producing the same ``AgentSnapshot`` the file
/// reader (``GlobalDatabaseReader``) produces for the same rows, so change detection, snapshots
/// and event ids are shared whichever source saw a transition.
///
/// wazuh-db answers on its own connection, which sees its open (uncommitted) transaction: the
/// snapshot is as fresh as wazuh-db's own state, 10–60 s ahead of the file.
///
/// - Sends only ``WazuhDBQuery``s: the column list once (and after any failure), then
///   `SELECT … WHERE id > last ORDER BY id LIMIT n` pages: every agent in a full sweep, or, in an
///   incremental read, wazuh-db's count of agents per status and only the rows whose status moved
///   (see `WazuhDBSocketReader+Incremental.swift`). A full sweep runs at the first read, after any
///   failure, every `fullSweepInterval`, and whenever the counts show that an incremental read
///   missed something (a removal always does). `n` adapts so a reply stays well under
///   the 64 KiB limit: a reply that comes back truncated (invalid JSON) or as `err` is asked again
///   with half the rows, a page far under the limit doubles `n` next time.
/// - `internal_key` is never selected (it is not a ``WazuhDBQuery/Column``); agent 000 is excluded.
/// - Failures are ``WazuhSourceError``s naming the socket; the next read reconnects.
///
/// Thread-safe: reads are serialised by an internal lock.
public final class WazuhDBSocketReader: Sendable {
    /// One successful read and what it cost wazuh-db.
    public struct Read: Sendable {
        public var snapshot: AgentSnapshot
        /// Requests sent for this read.
        public var queries: Int
        /// Reply bytes received for this read.
        public var bytesReceived: Int
        /// Wall time from the first request to the last reply.
        public var duration: Duration
        /// `true` when this read (re)connected or re-learned the columns.
        public var opened: Bool
        /// `true` for a full sweep (every agent read), `false` for an incremental read.
        public var sweep: Bool
        /// `true` when wazuh-db counted the agents at this read (a sweep, or an incremental read
        /// with its census): whatever moved without a time stamp is in the snapshot.
        public var census: Bool
        /// Set by the source selector: global.db had no commit since the previous socket read, so
        /// what this read shows beyond that one is not in the file yet.
        public var aheadOfFile = false
    }

    /// Default longest time between two censuses: what moves no time stamp (a `status_code` alone, a
    /// clock stepped back, disconnected → active on a keepalive) is seen within this.
    public static let defaultCensusInterval: Duration = .seconds(5)

    /// Rows per page at first, and bounds of the adaptation.
    static let initialPageRows = 256
    static let maximumPageRows = 8192
    /// A full page whose reply is below this many bytes doubles the next page.
    static let growBelowBytes = WazuhDBFrame.maximumPayload / 4

    struct State {
        var columns: [WazuhDBQuery.Column]?
        var pageRows = WazuhDBSocketReader.initialPageRows
        var lastCount = 0
        /// The last read's result, which an incremental read updates.
        var previous: AgentSnapshot?
        /// What the next incremental read asks for (`nil`: incremental reads impossible, sweep).
        var since: Int64?
        var lastSweep: ContinuousClock.Instant?
        /// When wazuh-db last counted the agents for this reader (a sweep counts too).
        var lastCensus: ContinuousClock.Instant?
    }

    public let client: WazuhDBClient
    /// Longest time between two full sweeps.
    public let fullSweepInterval: Duration
    /// Longest time between two censuses (wazuh-db's count of agents per status, which proves an
    /// incremental read complete). Reads in between only ask for the rows stamped as changed.
    public let censusInterval: Duration
    let logger: Logger
    private let state = Mutex(State())

    /// - Parameter fullSweepInterval: longest time between two reads of every agent; reads in between
    ///   ask only for the rows whose status may have moved. `.zero` sweeps at every read.
    /// - Parameter censusInterval: longest time between two censuses; `.zero` counts at every read.
    ///   Reads in between cost wazuh-db one scan instead of two (see `WazuhDBSocketReader+Incremental.swift`).
    public init(
        client: WazuhDBClient, fullSweepInterval: Duration = .seconds(60),
        censusInterval: Duration = WazuhDBSocketReader.defaultCensusInterval,
        logger: Logger = Logger(label: "wazuh.source", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.client = client
        self.fullSweepInterval = fullSweepInterval
        self.censusInterval = censusInterval
        self.logger = logger
    }

    /// Path of the socket read.
    public var path: String { client.path }

    /// Reads every agent (agent 000 excluded): a full sweep when due (see the type's documentation),
    /// else only the rows whose status may have moved, merged into the previous read.
    /// - Throws: ``WazuhSourceError`` (`socketMissing`, `permissionDenied`, `socketUnavailable`,
    ///   `socketTimeout`, `malformedReply`, `wazuhDBError`, `notAWazuhDatabase`).
    /// - Parameter forceCensus: count the agents at this read even when the census is not due.
    public func read(forceSweep: Bool = false, forceCensus: Bool = false) throws(WazuhSourceError) -> Read {
        try state.withLock { (state: inout State) throws(WazuhSourceError) -> Read in
            let clock = ContinuousClock()
            let start = clock.now
            let before = client.traffic
            do throws(WazuhSourceError) {
                var opened = false
                let columns: [WazuhDBQuery.Column]
                if let known = state.columns {
                    columns = known
                } else {
                    columns = try learnColumns()
                    state.columns = columns
                    state.previous = nil
                    opened = true
                }
                var snapshot: AgentSnapshot?
                let sweepDue = state.lastSweep.map { start - $0 >= fullSweepInterval } ?? true
                let censusDue = forceCensus || (state.lastCensus.map { start - $0 >= censusInterval } ?? true)
                if !forceSweep, !sweepDue, let previous = state.previous, let since = state.since,
                    let (merged, newest) = try readChanges(
                        columns: columns, since: since, into: previous, census: censusDue, state: &state)
                {
                    snapshot = merged
                    if let newest {
                        state.since = newest - Self.changeMargin
                        state.lastCensus = start
                    }
                }
                let sweep = snapshot == nil
                if sweep {
                    let all = try readAll(columns: columns, state: &state)
                    snapshot = all
                    state.lastSweep = start
                    state.lastCensus = start
                    state.since =
                        Self.supportsIncrementalReads(columns) ? Self.newestTime(in: all) - Self.changeMargin : nil
                }
                let result = snapshot ?? AgentSnapshot()
                state.previous = result
                state.lastCount = result.count
                let after = client.traffic
                return Read(
                    snapshot: result, queries: after.requests - before.requests,
                    bytesReceived: after.bytesReceived - before.bytesReceived, duration: clock.now - start,
                    opened: opened, sweep: sweep, census: sweep || censusDue)
            } catch {
                state.columns = nil
                state.previous = nil
                client.close()
                throw error.naming(client.path)
            }
        }
    }

    /// Every agent id, through `global get-all-agents`, following `due` continuations.
    public func allAgentIDs() throws(WazuhSourceError) -> [Int] {
        try pagedIDs { .allAgentIDs(lastID: $0) }
    }

    /// Ids of agents in `status`, through `global get-agents-by-connection-status`, following `due`.
    public func agentIDs(status: WazuhDBQuery.Status) throws(WazuhSourceError) -> [Int] {
        try pagedIDs { .agentIDs(lastID: $0, status: status) }
    }

    /// Drops the connection and what was learned through it.
    public func close() {
        state.withLock { state in
            state.columns = nil
            state.previous = nil
        }
        client.close()
    }

    private func pagedIDs(_ query: (Int) -> WazuhDBQuery) throws(WazuhSourceError) -> [Int] {
        var ids: [Int] = []
        var lastID = 0
        while true {
            switch try client.send(query(lastID)) {
            case .ok(let json):
                ids += try WazuhDBRows.ids(json)
                return ids
            case .due(let json):
                let page = try WazuhDBRows.ids(json)
                guard let last = page.last, last > lastID else {
                    throw failure(.malformedReply, "wazuh-db answered due without moving past id \(lastID)")
                }
                ids += page
                lastID = last
            case .err(let text):
                throw failure(.wazuhDBError, "wazuh-db refused a read: \(text)")
            }
        }
    }

    private func learnColumns() throws(WazuhSourceError) -> [WazuhDBQuery.Column] {
        let names: [String]
        switch try client.send(.agentTableColumns) {
        case .ok(let json), .due(let json):
            names = try WazuhDBRows.names(json).map { $0.lowercased() }
        case .err(let text):
            throw failure(.wazuhDBError, "wazuh-db refused the column list: \(text)")
        }
        let required: [WazuhDBQuery.Column] = [.id, .name, .connectionStatus, .dateAdd]
        let missing = required.filter { !names.contains($0.rawValue) }
        guard missing.isEmpty else {
            throw failure(
                .notAWazuhDatabase,
                "the agent table lacks \(missing.map(\.rawValue).joined(separator: ", ")) (Wazuh before 4.1 is unsupported)"
            )
        }
        return WazuhDBQuery.Column.allCases.filter { names.contains($0.rawValue) }
    }

    /// Every agent, paged by id.
    private func readAll(columns: [WazuhDBQuery.Column], state: inout State) throws(WazuhSourceError) -> AgentSnapshot {
        var builder = AgentSnapshot.Builder(capacity: state.lastCount + 64)
        try readPages(
            state: &state, query: { .agents(columns: columns, after: $0, limit: $1) },
            each: { append($0, to: &builder) })
        return builder.finish()
    }

    /// Sends `query(after, rows)` pages until one comes back short, handing each row to `body` in id order.
    /// Page sizes adapt to stay under the 64 KiB limit (see the type's documentation).
    func readPages(
        state: inout State, query: (Int, Int) -> WazuhDBQuery, each body: (WazuhDBRows.Agent) -> Void
    ) throws(WazuhSourceError) {
        var lastID = 0
        while true {
            let rows = state.pageRows
            let reply = try client.send(query(lastID, rows))
            let json: [UInt8]
            switch reply {
            case .ok(let bytes), .due(let bytes):
                json = bytes
            case .err(let text):
                // wazuh-db answers `err` when a reply would not fit; anything else is a real refusal.
                if rows > 1 {
                    state.pageRows = max(1, rows / 2)
                    logger.debug("wazuh-db refused a page; halving it", metadata: ["wazuh.page_rows": "\(rows)"])
                    continue
                }
                throw failure(.wazuhDBError, "wazuh-db refused a read: \(text)")
            }
            let agents: [WazuhDBRows.Agent]
            do throws(WazuhSourceError) {
                agents = try WazuhDBRows.agents(json)
            } catch  where json.count >= WazuhDBFrame.maximumPayload - 8 && rows > 1 {
                // Cut at the size limit: the same page with half the rows fits.
                state.pageRows = max(1, rows / 2)
                continue
            }
            for agent in agents {
                guard agent.id > lastID, agent.id <= Int(Int32.max) else {
                    throw failure(.malformedReply, "wazuh-db returned agent ids out of order")
                }
                lastID = agent.id
                body(agent)
            }
            if agents.count < rows { return }
            if json.count < Self.growBelowBytes {
                state.pageRows = min(Self.maximumPageRows, rows * 2)
            }
        }
    }

    func append(_ agent: WazuhDBRows.Agent, to builder: inout AgentSnapshot.Builder) {
        let name = Array(agent.name.utf8)
        let ip = agent.ip.map { Array($0.utf8) }
        let node = agent.nodeName.map { Array($0.utf8) }
        let groups = agent.groups.map { Array($0.utf8) }
        let status = ConnectionStatus(databaseValue: agent.connectionStatus)
        name.withUnsafeBytes { nameBytes in
            optionalBytes(ip) { ipBytes in
                optionalBytes(node) { nodeBytes in
                    optionalBytes(groups) { groupBytes in
                        builder.append(
                            id: Int32(agent.id), name: nameBytes, ip: ipBytes, status: status,
                            lastKeepalive: agent.lastKeepalive, dateAdd: agent.dateAdd,
                            disconnectionTime: agent.disconnectionTime, statusCode: agent.statusCode,
                            nodeName: nodeBytes, groups: groupBytes)
                    }
                }
            }
        }
    }

    func failure(_ code: WazuhSourceError.Code, _ message: String) -> WazuhSourceError {
        WazuhSourceError(code: code, path: client.path, message: message)
    }
}

private func optionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
