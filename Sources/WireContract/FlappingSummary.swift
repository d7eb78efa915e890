import Crypto

/// One window of a rate-limited agent's transitions, on `{p}.agent.{id}.flapping` (contract 1.1).
///
/// Above `rate_limit.per_agent` transitions in a window, the agent's secondary subjects (`.connected`,
/// `.disconnected`, …) stop carrying each transition; when the window closes this summary says what they
/// missed. `{p}.agent.{id}.status` and the batches still carry every transition.
///
/// JSON: `event_id` (`flap_{agent}_{window start}_{hash}`), `event_type` (`flapping`), `agent_id`,
/// `agent_name`, `manager_node`, `window_start` / `window_end` (RFC 3339), `transitions` (in the window),
/// `condensed` (transitions whose secondary messages were left out), `first_status` (the status before
/// the window's first transition), `last_status` (after its last), `timestamp`, `signature`.
public struct FlappingSummary: Sendable, Hashable, SignedContractObject {
    public static let eventType = "flapping"

    public var eventID: String
    public var agentID: String
    public var agentName: String
    public var managerNode: String
    public var windowStart: String
    public var windowEnd: String
    public var transitions: Int64
    public var condensed: Int64
    public var firstStatus: String
    public var lastStatus: String
    public var timestamp: String
    public var signature: String?

    public init(
        eventID: String, agentID: String, agentName: String, managerNode: String, windowStart: String,
        windowEnd: String, transitions: Int64, condensed: Int64, firstStatus: String, lastStatus: String,
        timestamp: String, signature: String? = nil
    ) {
        self.eventID = eventID
        self.agentID = agentID
        self.agentName = agentName
        self.managerNode = managerNode
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.transitions = transitions
        self.condensed = condensed
        self.firstStatus = firstStatus
        self.lastStatus = lastStatus
        self.timestamp = timestamp
        self.signature = signature
    }

    public var jsonObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "event_id": .string(self.eventID),
            "event_type": .string(Self.eventType),
            "agent_id": .string(self.agentID),
            "agent_name": .string(self.agentName),
            "manager_node": .string(self.managerNode),
            "window_start": .string(self.windowStart),
            "window_end": .string(self.windowEnd),
            "transitions": .int(self.transitions),
            "condensed": .int(self.condensed),
            "first_status": .string(self.firstStatus),
            "last_status": .string(self.lastStatus),
            "timestamp": .string(self.timestamp),
        ]
        if let signature = self.signature { object["signature"] = .string(signature) }
        return object
    }

    /// Reads a summary from its JSON object; unknown members are ignored.
    public init(jsonObject object: [String: JSONValue]) throws(WireError) {
        let fields = ContractFields(object: object, what: "flapping summary")
        guard try fields.string("event_type") == Self.eventType else {
            throw fields.missing("event_type", "\"flapping\"")
        }
        self.init(
            eventID: try fields.string("event_id"), agentID: try fields.string("agent_id"),
            agentName: try fields.string("agent_name"), managerNode: try fields.string("manager_node"),
            windowStart: try fields.string("window_start"), windowEnd: try fields.string("window_end"),
            transitions: try fields.int("transitions"), condensed: try fields.int("condensed"),
            firstStatus: try fields.string("first_status"), lastStatus: try fields.string("last_status"),
            timestamp: try fields.string("timestamp"), signature: try fields.optionalString("signature"))
    }

    /// Deterministic from the agent, its registration and the window start.
    public static func makeID(agentID: Int, dateAdd: Int64, windowStart: Int64) -> String {
        var hasher = SHA256()
        LengthPrefixed.feed("wazuh-nats-gateway/flapping-id/v1", into: &hasher)
        LengthPrefixed.feed(Int64(agentID), into: &hasher)
        LengthPrefixed.feed(dateAdd, into: &hasher)
        LengthPrefixed.feed(windowStart, into: &hasher)
        let hash = LengthPrefixed.hexPrefix(of: hasher.finalize(), characters: 16)
        return "flap_\(Subjects.agentToken(agentID))_\(windowStart)_\(hash)"
    }
}
