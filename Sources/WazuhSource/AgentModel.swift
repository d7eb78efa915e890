/// The connection status of a Wazuh agent, as the gateway publishes it.
///
/// Mapped from the `connection_status` column of `global.db`; any value Wazuh may add later
/// becomes ``unknown`` rather than an error.
public enum ConnectionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case active = "Active"
    case disconnected = "Disconnected"
    case neverConnected = "NeverConnected"
    case pending = "Pending"
    case unknown = "Unknown"

    /// Maps a raw `connection_status` value (`active`, `disconnected`, `never_connected`, `pending`).
    public init(databaseValue: String?) {
        switch databaseValue {
        case "active": self = .active
        case "disconnected": self = .disconnected
        case "never_connected": self = .neverConnected
        case "pending": self = .pending
        default: self = .unknown
        }
    }
}

/// Why an agent's status is what it is, derived from Wazuh's `status_code` column (4.6+).
public enum StatusReason: String, Sendable, Hashable, Codable {
    case versionError = "version_error"
    case versionMismatch = "version_mismatch"
    case agentStopped = "agent_stopped"
    case keepaliveTimeout = "keepalive_timeout"
    case managerRestart = "manager_restart"

    /// `nil` for 0 (no reason) and for codes Wazuh may add later.
    public init?(statusCode: Int?) {
        switch statusCode {
        case 1: self = .versionError
        case 2: self = .versionMismatch
        case 3: self = .agentStopped
        case 4: self = .keepaliveTimeout
        case 5: self = .managerRestart
        default: return nil
        }
    }
}

/// One row of the `agent` table, reduced to what the gateway needs. Never holds `internal_key`.
public struct AgentRecord: Sendable, Hashable {
    /// Numeric agent id (`001` on the wire). Agent 0 (the manager itself) is never represented.
    public var id: Int
    public var name: String
    public var ip: String?
    public var status: ConnectionStatus
    /// Unix epoch seconds; `nil` when the agent never connected.
    public var lastKeepalive: Int64?
    /// Unix epoch seconds of registration (`date_add`).
    public var dateAdd: Int64
    /// Unix epoch seconds; 0 or `nil` while connected, `nil` when the column is absent (< 4.3).
    public var disconnectionTime: Int64?
    /// `nil` when the column is absent (< 4.6).
    public var statusCode: Int?
    /// Cluster node the agent reports to; `nil` when the column is absent (newer 5.x).
    public var nodeName: String?
    /// The agent's groups as global.db's `group` column holds them: comma-separated names in
    /// priority order (`default`, `default,site-a`); `nil` when unset or the column is absent.
    public var groups: String?

    public init(
        id: Int, name: String, ip: String?, status: ConnectionStatus, lastKeepalive: Int64?,
        dateAdd: Int64, disconnectionTime: Int64?, statusCode: Int?, nodeName: String?, groups: String? = nil
    ) {
        self.id = id
        self.name = name
        self.ip = ip
        self.status = status
        self.lastKeepalive = lastKeepalive
        self.dateAdd = dateAdd
        self.disconnectionTime = disconnectionTime
        self.statusCode = statusCode
        self.nodeName = nodeName
        self.groups = groups
    }

    /// The names in ``groups``, in order, empty ones dropped.
    public var groupNames: [String] { Self.groupNames(self.groups) }

    /// Splits a `group` column value (`default,site-a`) into its names, empty ones dropped (Wazuh's group
    /// names hold no commas or spaces).
    public static func groupNames(_ groups: String?) -> [String] {
        guard let groups, !groups.isEmpty else { return [] }
        return groups.split(separator: ",").map(String.init)
    }
}

/// What kind of transition a change describes.
public enum ChangeKind: String, Sendable, Hashable, Codable {
    case statusChange = "status_change"
    case registered
    case removed
}

/// One detected transition of one agent.
///
/// `transitionTime` is the database's own time for the transition (never the reader's clock),
/// so that two readers of the same manager derive the same event id for it.
public struct AgentChange: Sendable, Hashable {
    public var kind: ChangeKind
    public var agentID: Int
    public var agentName: String
    public var ipAddress: String?
    /// `unknown` for a registration.
    public var previousStatus: ConnectionStatus
    /// `unknown` for a removal.
    public var currentStatus: ConnectionStatus
    public var reason: StatusReason?
    public var statusCode: Int?
    public var lastKeepalive: Int64?
    public var nodeName: String?
    /// Registration time of the agent (`date_add`): tells apart re-registrations of the same id.
    public var dateAdd: Int64
    /// Unix epoch seconds, taken from the database's columns for this transition.
    public var transitionTime: Int64

    public init(
        kind: ChangeKind, agentID: Int, agentName: String, ipAddress: String?,
        previousStatus: ConnectionStatus, currentStatus: ConnectionStatus, reason: StatusReason?,
        statusCode: Int?, lastKeepalive: Int64?, nodeName: String?, dateAdd: Int64, transitionTime: Int64
    ) {
        self.kind = kind
        self.agentID = agentID
        self.agentName = agentName
        self.ipAddress = ipAddress
        self.previousStatus = previousStatus
        self.currentStatus = currentStatus
        self.reason = reason
        self.statusCode = statusCode
        self.lastKeepalive = lastKeepalive
        self.nodeName = nodeName
        self.dateAdd = dateAdd
        self.transitionTime = transitionTime
    }
}

/// Agent counts by status, for batch summaries and heartbeats. Agent 000 is never counted.
public struct FleetCounts: Sendable, Hashable, Codable {
    public var total: Int
    public var active: Int
    public var disconnected: Int
    public var pending: Int
    public var neverConnected: Int

    public init(total: Int = 0, active: Int = 0, disconnected: Int = 0, pending: Int = 0, neverConnected: Int = 0) {
        self.total = total
        self.active = active
        self.disconnected = disconnected
        self.pending = pending
        self.neverConnected = neverConnected
    }
}
