/// Contract encoding of events: field names as in DESIGN.md; `reason`, `ip_address`, `last_keepalive`
/// and `node_name` are present as `null` when absent.
extension AgentStatusEvent {
    /// The event as a JSON object; `signature` is included when set.
    public var jsonObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "event_id": .string(self.eventID),
            "event_type": .string(self.eventType),
            "agent_id": .string(self.agentID),
            "agent_name": .string(self.agentName),
            "previous_status": .string(self.previousStatus),
            "current_status": .string(self.currentStatus),
            "reason": .optionalString(self.reason),
            "ip_address": .optionalString(self.ipAddress),
            "last_keepalive": .optionalString(self.lastKeepalive),
            "manager_node": .string(self.managerNode),
            "node_name": .optionalString(self.nodeName),
            "timestamp": .string(self.timestamp),
        ]
        if let signature = self.signature { object["signature"] = .string(signature) }
        return object
    }

    /// Reads an event from its JSON object; unknown members (additive fields) are ignored.
    public init(jsonObject object: [String: JSONValue]) throws(WireError) {
        let fields = ContractFields(object: object, what: "event")
        self.init(
            eventType: try fields.string("event_type"),
            eventID: try fields.string("event_id"),
            agentID: try fields.string("agent_id"),
            agentName: try fields.string("agent_name"),
            previousStatus: try fields.string("previous_status"),
            currentStatus: try fields.string("current_status"),
            reason: try fields.optionalString("reason"),
            ipAddress: try fields.optionalString("ip_address"),
            lastKeepalive: try fields.optionalString("last_keepalive"),
            managerNode: try fields.string("manager_node"),
            nodeName: try fields.optionalString("node_name"),
            timestamp: try fields.string("timestamp"),
            signature: try fields.optionalString("signature")
        )
    }
}

/// Typed access to a contract object's members with errors naming the member.
struct ContractFields {
    let object: [String: JSONValue]
    let what: String

    func missing(_ name: String, _ expected: String) -> WireError {
        WireError(code: .invalidMessage, detail: "\(self.what) member \(name) missing or not \(expected)")
    }

    func string(_ name: String) throws(WireError) -> String {
        guard let value = self.object[name]?.stringValue else { throw self.missing(name, "a string") }
        return value
    }

    func optionalString(_ name: String) throws(WireError) -> String? {
        switch self.object[name] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw self.missing(name, "a string or null")
        }
    }

    func int(_ name: String) throws(WireError) -> Int64 {
        guard let value = self.object[name]?.intValue else { throw self.missing(name, "an integer") }
        return value
    }

    func optionalInt(_ name: String) throws(WireError) -> Int64? {
        switch self.object[name] {
        case nil, .null?: return nil
        case let value?:
            guard let number = value.intValue else { throw self.missing(name, "an integer or null") }
            return number
        }
    }

    func object(_ name: String) throws(WireError) -> [String: JSONValue] {
        guard let value = self.object[name]?.objectValue else { throw self.missing(name, "an object") }
        return value
    }

    func array(_ name: String) throws(WireError) -> [JSONValue] {
        guard let value = self.object[name]?.arrayValue else { throw self.missing(name, "an array") }
        return value
    }
}
