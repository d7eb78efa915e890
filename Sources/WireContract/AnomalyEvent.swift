import Crypto

/// A security finding about the fleet's status pattern, on `{p}.security.anomaly` (and, when it concerns
/// one agent, also on `{p}.agent.{id}.anomaly`). Since contract 1.1.
///
/// JSON (strings, integers and null only, signed like an event): `event_id` (deterministic, `anom_…`),
/// `event_type` (`anomaly`), `anomaly_type` (see ``Kind``), `severity` (`warning` | `critical`),
/// `agent_id` / `agent_name` (null for fleet-wide findings), `manager_node`, `node_name` (the cluster
/// node concerned, or null), `observed` (the counter that crossed the threshold), `threshold`,
/// `fleet_size` (agents in the scope, or null), `window_seconds`, `first_seen` / `last_seen` (RFC 3339,
/// the first and last transition counted), `explanation` (one sentence), `timestamp` (when detected),
/// `signature`.
public struct AnomalyEvent: Sendable, Hashable, SignedContractObject {
    /// What the finding is.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Many agents of one cluster node disconnected within the window.
        case massDisconnection = "mass_disconnection"
        /// An agent was stopped by hand (`agent_stopped`) outside the maintenance window.
        case agentStopped = "agent_stopped"
        /// An agent changed status more than the threshold within the window.
        case flapping
        /// An agent registered under a name or id that existed before.
        case reregistration
        /// No agent's keepalive advanced for the silence period while agents were active.
        case fleetSilent = "fleet_silent"
    }

    public static let eventType = "anomaly"

    public var eventID: String
    public var kind: Kind
    public var severity: String
    public var agentID: String?
    public var agentName: String?
    public var managerNode: String
    public var nodeName: String?
    public var observed: Int64
    public var threshold: Int64
    public var fleetSize: Int64?
    public var windowSeconds: Int64
    public var firstSeen: String?
    public var lastSeen: String?
    public var explanation: String
    public var timestamp: String
    public var signature: String?

    public init(
        eventID: String, kind: Kind, severity: String, agentID: String?, agentName: String?, managerNode: String,
        nodeName: String?, observed: Int64, threshold: Int64, fleetSize: Int64?, windowSeconds: Int64,
        firstSeen: String?, lastSeen: String?, explanation: String, timestamp: String, signature: String? = nil
    ) {
        self.eventID = eventID
        self.kind = kind
        self.severity = severity
        self.agentID = agentID
        self.agentName = agentName
        self.managerNode = managerNode
        self.nodeName = nodeName
        self.observed = observed
        self.threshold = threshold
        self.fleetSize = fleetSize
        self.windowSeconds = windowSeconds
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.explanation = explanation
        self.timestamp = timestamp
        self.signature = signature
    }

    public var jsonObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "event_id": .string(self.eventID),
            "event_type": .string(Self.eventType),
            "anomaly_type": .string(self.kind.rawValue),
            "severity": .string(self.severity),
            "agent_id": .optionalString(self.agentID),
            "agent_name": .optionalString(self.agentName),
            "manager_node": .string(self.managerNode),
            "node_name": .optionalString(self.nodeName),
            "observed": .int(self.observed),
            "threshold": .int(self.threshold),
            "fleet_size": .optionalInt(self.fleetSize),
            "window_seconds": .int(self.windowSeconds),
            "first_seen": .optionalString(self.firstSeen),
            "last_seen": .optionalString(self.lastSeen),
            "explanation": .string(self.explanation),
            "timestamp": .string(self.timestamp),
        ]
        if let signature = self.signature { object["signature"] = .string(signature) }
        return object
    }

    /// Reads an anomaly from its JSON object; unknown members are ignored.
    public init(jsonObject object: [String: JSONValue]) throws(WireError) {
        let fields = ContractFields(object: object, what: "anomaly")
        guard try fields.string("event_type") == Self.eventType else {
            throw fields.missing("event_type", "\"anomaly\"")
        }
        guard let kind = Kind(rawValue: try fields.string("anomaly_type")) else {
            throw fields.missing("anomaly_type", "a known anomaly type")
        }
        self.init(
            eventID: try fields.string("event_id"), kind: kind, severity: try fields.string("severity"),
            agentID: try fields.optionalString("agent_id"), agentName: try fields.optionalString("agent_name"),
            managerNode: try fields.string("manager_node"), nodeName: try fields.optionalString("node_name"),
            observed: try fields.int("observed"), threshold: try fields.int("threshold"),
            fleetSize: try fields.optionalInt("fleet_size"), windowSeconds: try fields.int("window_seconds"),
            firstSeen: try fields.optionalString("first_seen"), lastSeen: try fields.optionalString("last_seen"),
            explanation: try fields.string("explanation"), timestamp: try fields.string("timestamp"),
            signature: try fields.optionalString("signature"))
    }

    /// `anom_{type}_{hash}`: the first 20 hex digits of SHA-256 over the type and the database-derived
    /// `basis` (agent ids, transition times), so a restart that re-detects the same finding yields the
    /// same id and the outbox and JetStream drop the repeat.
    public static func makeID(kind: Kind, basis: [String]) -> String {
        var hasher = SHA256()
        LengthPrefixed.feed("wazuh-nats-gateway/anomaly-id/v1", into: &hasher)
        LengthPrefixed.feed(kind.rawValue, into: &hasher)
        for part in basis { LengthPrefixed.feed(part, into: &hasher) }
        return "anom_\(kind.rawValue)_\(LengthPrefixed.hexPrefix(of: hasher.finalize(), characters: 20))"
    }
}
