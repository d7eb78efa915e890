/// A request the gateway may send to wazuh-db: read-only by construction.
///
/// There is no way to make one from free text. Every request is built from the cases below, whose
/// only variable parts are integers and the closed enums ``Column`` and ``Status``, so no writing
/// command (`update-keepalive`, `disconnect-agents`, `sql UPDATE …`, …) can be expressed, and
/// `internal_key` (the agent's secret) can never be selected: it is not a ``Column``.
public struct WazuhDBQuery: Sendable, Hashable, CustomStringConvertible {
    /// The agent columns the gateway reads. `internal_key` is deliberately absent.
    public enum Column: String, Sendable, Hashable, CaseIterable {
        case id
        case name
        case ip
        case connectionStatus = "connection_status"
        case lastKeepalive = "last_keepalive"
        case dateAdd = "date_add"
        case disconnectionTime = "disconnection_time"
        case statusCode = "status_code"
        case nodeName = "node_name"
        /// The agent's groups, comma-separated (an SQL keyword: quoted when selected).
        case group

        /// The column as a SELECT names it.
        var selected: String { self == .group ? "\"group\"" : self.rawValue }
    }

    /// The `connection_status` values `get-agents-by-connection-status` accepts.
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case active
        case disconnected
        case pending
        case neverConnected = "never_connected"
    }

    /// What is asked, before it is spelled out.
    public enum Kind: Sendable, Hashable {
        /// `global sql SELECT name FROM pragma_table_info('agent')`: which columns exist.
        case agentTableColumns
        /// `global sql SELECT <columns> FROM agent WHERE id > <after> ORDER BY id LIMIT <limit>`.
        case agents(columns: [Column], after: Int, limit: Int)
        /// `global get-all-agents last_id <lastID>` (ids only; replies `due` while more follow).
        case allAgentIDs(lastID: Int)
        /// `global get-agents-by-connection-status <lastID> <status>` (ids only; `due` while more follow).
        case agentIDs(lastID: Int, status: Status)
        /// `global sql SELECT connection_status AS status, count(*) AS agents, max(…) AS newest,
        /// sum(id) AS ids[, sum(id*ifnull(status_code,0)) AS codes] FROM agent WHERE id > 0 GROUP BY
        /// connection_status`: agents per status, the sum of their ids and of id × `status_code` (when
        /// `statusCodes`: the column exists), and the newest keepalive, disconnection or registration
        /// time not after `ceiling`.
        case agentCensus(ceiling: Int64, statusCodes: Bool)
        /// `global sql SELECT <columns> FROM agent WHERE id > <after> AND (disconnection_time >= <since>
        /// OR date_add >= <since> OR connection_status = 'pending' OR id IN (<ids>)) ORDER BY id LIMIT <limit>`:
        /// agents disconnected, registered or pending since `since`, and the agents `ids` (known pending).
        case changedAgents(columns: [Column], since: Int64, ids: [Int32], after: Int, limit: Int)
        /// `global sql SELECT <columns> FROM agent WHERE id > <after> AND connection_status = 'active'
        /// AND last_keepalive >= <since> ORDER BY id LIMIT <limit>`: agents active with a keepalive since `since`.
        case activeAgents(columns: [Column], since: Int64, after: Int, limit: Int)
    }

    public let kind: Kind

    private init(kind: Kind) {
        self.kind = kind
    }

    /// Which columns the `agent` table has.
    public static let agentTableColumns = WazuhDBQuery(kind: .agentTableColumns)

    /// Agents with an id above `after` (agent 000 never: `after` is at least 0), ascending, at most
    /// `limit` (1 … 100000) rows. Duplicate columns are dropped; `id` is always selected first.
    public static func agents(columns: [Column], after: Int, limit: Int) -> WazuhDBQuery {
        var chosen: [Column] = [.id]
        for column in columns where !chosen.contains(column) { chosen.append(column) }
        return WazuhDBQuery(kind: .agents(columns: chosen, after: max(0, after), limit: min(max(1, limit), 100_000)))
    }

    /// Every agent id above `lastID`, paged by wazuh-db.
    public static func allAgentIDs(lastID: Int) -> WazuhDBQuery {
        WazuhDBQuery(kind: .allAgentIDs(lastID: max(0, lastID)))
    }

    /// Ids of agents in `status` above `lastID`, paged by wazuh-db.
    public static func agentIDs(lastID: Int, status: Status) -> WazuhDBQuery {
        WazuhDBQuery(kind: .agentIDs(lastID: max(0, lastID), status: status))
    }

    /// Agents per `connection_status`, their id sums (and id × `status_code` sums when `statusCodes`),
    /// and the newest time not after `ceiling` (agent 000 excluded).
    public static func agentCensus(ceiling: Int64, statusCodes: Bool = true) -> WazuhDBQuery {
        WazuhDBQuery(kind: .agentCensus(ceiling: ceiling, statusCodes: statusCodes))
    }

    /// Like ``agents(columns:after:limit:)``, restricted to agents disconnected or registered at or
    /// after `since`, pending, or among `ids` (at most ``maximumListedIDs`` are kept; ids ≤ 0 dropped).
    public static func changedAgents(
        columns: [Column], since: Int64, ids: [Int32], after: Int, limit: Int
    ) -> WazuhDBQuery {
        let (chosen, after, limit) = paging(columns, after, limit)
        let listed = Array(Set(ids.filter { $0 > 0 })).sorted().prefix(maximumListedIDs)
        return WazuhDBQuery(
            kind: .changedAgents(columns: chosen, since: since, ids: Array(listed), after: after, limit: limit))
    }

    /// Like ``agents(columns:after:limit:)``, restricted to active agents with a keepalive at or after `since`.
    public static func activeAgents(columns: [Column], since: Int64, after: Int, limit: Int) -> WazuhDBQuery {
        let (chosen, after, limit) = paging(columns, after, limit)
        return WazuhDBQuery(kind: .activeAgents(columns: chosen, since: since, after: after, limit: limit))
    }

    /// Most ids one ``changedAgents(columns:since:ids:after:limit:)`` lists: at most ~45 KiB of
    /// request, under wazuh-db's 64 KiB. Pending lasts one notify interval (10–20 s), so only a
    /// reconnect storm of more agents goes over; the missed pending → active transitions then show
    /// in the counts and are read by ``activeAgents(columns:since:after:limit:)``.
    public static let maximumListedIDs = 4096

    private static func paging(_ columns: [Column], _ after: Int, _ limit: Int) -> ([Column], Int, Int) {
        guard case .agents(let chosen, let after, let limit) = agents(columns: columns, after: after, limit: limit).kind
        else { preconditionFailure("agents(columns:after:limit:) builds .agents") }
        return (chosen, after, limit)
    }

    /// The command text sent on the socket.
    public var text: String {
        switch kind {
        case .agentTableColumns:
            return "global sql SELECT name FROM pragma_table_info('agent')"
        case .agents(let columns, let after, let limit):
            let list = columns.map(\.selected).joined(separator: ",")
            return "global sql SELECT \(list) FROM agent WHERE id > \(after) ORDER BY id LIMIT \(limit)"
        case .agentCensus(let ceiling, let statusCodes):
            let newest = ["last_keepalive", "disconnection_time", "date_add"].map {
                "CASE WHEN \($0) <= \(ceiling) THEN \($0) ELSE 0 END"
            }
            let codes = statusCodes ? ",sum(id*ifnull(status_code,0)) AS codes" : ""
            return "global sql SELECT connection_status AS status,count(*) AS agents,max(max("
                + newest.joined(separator: ",") + ")) AS newest,sum(id) AS ids\(codes) FROM agent WHERE id > 0"
                + " GROUP BY connection_status"
        case .changedAgents(let columns, let since, let ids, let after, let limit):
            let list = columns.map(\.selected).joined(separator: ",")
            let listed = ids.isEmpty ? "" : " OR id IN (\(ids.map(String.init).joined(separator: ",")))"
            return "global sql SELECT \(list) FROM agent WHERE id > \(after) AND (disconnection_time >= \(since)"
                + " OR date_add >= \(since) OR connection_status = 'pending'\(listed)) ORDER BY id LIMIT \(limit)"
        case .activeAgents(let columns, let since, let after, let limit):
            let list = columns.map(\.selected).joined(separator: ",")
            return "global sql SELECT \(list) FROM agent WHERE id > \(after) AND connection_status = 'active'"
                + " AND last_keepalive >= \(since) ORDER BY id LIMIT \(limit)"
        case .allAgentIDs(let lastID):
            return "global get-all-agents last_id \(lastID)"
        case .agentIDs(let lastID, let status):
            return "global get-agents-by-connection-status \(lastID) \(status.rawValue)"
        }
    }

    /// The command text as bytes.
    public var bytes: [UInt8] { Array(text.utf8) }

    public var description: String { text }
}
