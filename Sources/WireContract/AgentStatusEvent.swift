/// One agent status event as published on `{prefix}.agent.{id}.status` (wire contract v1).
///
/// Field names are the JSON keys of the contract; see DESIGN.md. Times are RFC 3339 UTC strings.
public struct AgentStatusEvent: Sendable, Hashable, Codable, SignedContractObject {
    /// `status_change`, `registered` or `removed`.
    public var eventType: String
    /// Deterministic: derived only from the database's own data for the transition.
    public var eventID: String
    /// Zero-padded agent id, e.g. `001`.
    public var agentID: String
    public var agentName: String
    public var previousStatus: String
    public var currentStatus: String
    public var reason: String?
    public var ipAddress: String?
    public var lastKeepalive: String?
    public var managerNode: String
    public var nodeName: String?
    /// When the gateway detected the transition.
    public var timestamp: String
    /// base64 HMAC-SHA256 over the canonical JSON of the event without this member.
    public var signature: String?

    public init(
        eventType: String, eventID: String, agentID: String, agentName: String, previousStatus: String,
        currentStatus: String, reason: String?, ipAddress: String?, lastKeepalive: String?, managerNode: String,
        nodeName: String?, timestamp: String, signature: String? = nil
    ) {
        self.eventType = eventType
        self.eventID = eventID
        self.agentID = agentID
        self.agentName = agentName
        self.previousStatus = previousStatus
        self.currentStatus = currentStatus
        self.reason = reason
        self.ipAddress = ipAddress
        self.lastKeepalive = lastKeepalive
        self.managerNode = managerNode
        self.nodeName = nodeName
        self.timestamp = timestamp
        self.signature = signature
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case eventID = "event_id"
        case agentID = "agent_id"
        case agentName = "agent_name"
        case previousStatus = "previous_status"
        case currentStatus = "current_status"
        case reason
        case ipAddress = "ip_address"
        case lastKeepalive = "last_keepalive"
        case managerNode = "manager_node"
        case nodeName = "node_name"
        case timestamp
        case signature
    }
}
