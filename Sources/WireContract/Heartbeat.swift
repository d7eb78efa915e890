/// The periodic health message on `{prefix}.manager.{node}.heartbeat`.
///
/// JSON: `gateway_version`, `uptime_seconds`, `nats_state`, `outbox_depth` (pending messages),
/// `outbox_parked`, `oldest_pending_age_seconds` (null when nothing is pending), `fleet`
/// `{total_agents, active_agents, disconnected_agents, pending_agents, never_connected_agents}`,
/// `timestamp`, `manager_node`, `signature`; since contract 1.1, `audit_head` `{sequence, hash}` — the
/// latest audit record (see ``AuditRecord``), present once the audit log holds a record.
public struct Heartbeat: Sendable, Hashable, SignedContractObject {
    public var gatewayVersion: String
    public var uptimeSeconds: Int64
    /// The NATS connection state as the gateway names it (e.g. `connected`, `reconnecting`).
    public var natsState: String
    public var outboxDepth: Int64
    public var outboxParked: Int64
    public var oldestPendingAgeSeconds: Int64?
    public var fleet: FleetCounts
    /// When the heartbeat was produced (RFC 3339 UTC).
    public var timestamp: String
    public var managerNode: String
    /// The audit chain head when the gateway keeps an audit log with at least one record.
    public var auditHead: AuditHead?
    public var signature: String?

    public init(
        gatewayVersion: String, uptimeSeconds: Int64, natsState: String, outboxDepth: Int64, outboxParked: Int64,
        oldestPendingAgeSeconds: Int64?, fleet: FleetCounts, timestamp: String, managerNode: String,
        auditHead: AuditHead? = nil, signature: String? = nil
    ) {
        self.gatewayVersion = gatewayVersion
        self.uptimeSeconds = uptimeSeconds
        self.natsState = natsState
        self.outboxDepth = outboxDepth
        self.outboxParked = outboxParked
        self.oldestPendingAgeSeconds = oldestPendingAgeSeconds
        self.fleet = fleet
        self.timestamp = timestamp
        self.managerNode = managerNode
        self.auditHead = auditHead
        self.signature = signature
    }

    /// The heartbeat as a JSON object; `signature` is included when set.
    public var jsonObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "gateway_version": .string(self.gatewayVersion),
            "uptime_seconds": .int(self.uptimeSeconds),
            "nats_state": .string(self.natsState),
            "outbox_depth": .int(self.outboxDepth),
            "outbox_parked": .int(self.outboxParked),
            "oldest_pending_age_seconds": .optionalInt(self.oldestPendingAgeSeconds),
            "fleet": .object(self.fleet.jsonMembers),
            "timestamp": .string(self.timestamp),
            "manager_node": .string(self.managerNode),
        ]
        if let auditHead = self.auditHead { object["audit_head"] = .object(auditHead.jsonObject) }
        if let signature = self.signature { object["signature"] = .string(signature) }
        return object
    }

    /// Reads a heartbeat from its JSON object; unknown members are ignored.
    public init(jsonObject object: [String: JSONValue]) throws(WireError) {
        let fields = ContractFields(object: object, what: "heartbeat")
        self.init(
            gatewayVersion: try fields.string("gateway_version"),
            uptimeSeconds: try fields.int("uptime_seconds"),
            natsState: try fields.string("nats_state"),
            outboxDepth: try fields.int("outbox_depth"),
            outboxParked: try fields.int("outbox_parked"),
            oldestPendingAgeSeconds: try fields.optionalInt("oldest_pending_age_seconds"),
            fleet: try FleetCounts(fields: ContractFields(object: try fields.object("fleet"), what: "fleet")),
            timestamp: try fields.string("timestamp"),
            managerNode: try fields.string("manager_node"),
            auditHead: try Self.auditHead(object["audit_head"]),
            signature: try fields.optionalString("signature")
        )
    }

    private static func auditHead(_ value: JSONValue?) throws(WireError) -> AuditHead? {
        guard let value, value != .null else { return nil }
        guard let object = value.objectValue else {
            throw WireError(code: .invalidMessage, detail: "heartbeat member audit_head not an object or null")
        }
        let fields = ContractFields(object: object, what: "audit_head")
        let hashText = try fields.string("hash")
        guard let hash = Hex.decode(hashText), hash.count == 32 else {
            throw WireError(code: .invalidMessage, detail: "audit_head member hash not 64 hex digits")
        }
        return AuditHead(sequence: try fields.int("sequence"), hash: hash)
    }
}
