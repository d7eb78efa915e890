import Crypto

/// The per-cycle batch on `{prefix}.security.agent_events` (the seed's "Batch Status Update").
///
/// JSON: `batch_id`, `manager_node`, `timestamp`, `events` (each event signed on its own), `summary`,
/// `signature`, and — only when a cycle's batch is split into several messages — `part` (1-based) and
/// `parts`. All parts of a split batch share `batch_id` and `summary`; their `Nats-Msg-Id`s differ
/// (see ``messageID``).
public struct BatchStatusUpdate: Sendable, Hashable, SignedContractObject {
    public var batchID: String
    public var managerNode: String
    /// When the gateway detected the cycle (RFC 3339 UTC).
    public var timestamp: String
    public var events: [AgentStatusEvent]
    public var summary: BatchSummary
    /// 1-based part number when split, else `nil`.
    public var part: Int?
    /// Number of parts when split, else `nil`.
    public var parts: Int?
    public var signature: String?

    public init(
        batchID: String, managerNode: String, timestamp: String, events: [AgentStatusEvent],
        summary: BatchSummary, part: Int? = nil, parts: Int? = nil, signature: String? = nil
    ) {
        self.batchID = batchID
        self.managerNode = managerNode
        self.timestamp = timestamp
        self.events = events
        self.summary = summary
        self.part = part
        self.parts = parts
        self.signature = signature
    }

    /// The `Nats-Msg-Id` of this message: the batch id, suffixed `:{part}/{parts}` for a part of a split
    /// batch so that the stream keeps every part.
    public var messageID: String {
        guard let part = self.part, let parts = self.parts else { return self.batchID }
        return "\(self.batchID):\(part)/\(parts)"
    }

    /// A deterministic batch id: `batch_{time}_` + the first 16 hex digits of SHA-256 over the sorted
    /// event ids, each as 4-byte big-endian length + UTF-8.
    ///
    /// Pass as `time` a value that comes from the database (e.g. the latest transition time among the
    /// events), not the wall clock, so that re-detecting the same cycle gives the same id.
    public static func makeBatchID(time: Int64, eventIDs: [String]) -> String {
        var hasher = SHA256()
        for eventID in eventIDs.sorted(by: CanonicalJSON.utf16Less) {
            LengthPrefixed.feed(eventID, into: &hasher)
        }
        return "batch_\(time)_" + LengthPrefixed.hexPrefix(of: hasher.finalize(), characters: 16)
    }

    /// Splits one cycle's events into batches of at most `maximumEvents` events each (at least one batch,
    /// even for no events). A single batch carries no `part`/`parts`.
    public static func split(
        batchID: String, managerNode: String, timestamp: String, events: [AgentStatusEvent],
        summary: BatchSummary, maximumEvents: Int
    ) -> [BatchStatusUpdate] {
        let size = max(1, maximumEvents)
        if events.count <= size {
            return [
                BatchStatusUpdate(
                    batchID: batchID, managerNode: managerNode, timestamp: timestamp, events: events, summary: summary)
            ]
        }
        let parts = (events.count + size - 1) / size
        return (0..<parts).map { index in
            let slice = Array(events[(index * size)..<min(events.count, (index + 1) * size)])
            return BatchStatusUpdate(
                batchID: batchID, managerNode: managerNode, timestamp: timestamp, events: slice,
                summary: summary, part: index + 1, parts: parts)
        }
    }

    /// The batch as a JSON object; `signature`, `part` and `parts` are included when set.
    public var jsonObject: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "batch_id": .string(self.batchID),
            "manager_node": .string(self.managerNode),
            "timestamp": .string(self.timestamp),
            "events": .array(self.events.map { .object($0.jsonObject) }),
            "summary": .object(self.summary.jsonObject),
        ]
        if let part = self.part { object["part"] = .int(Int64(part)) }
        if let parts = self.parts { object["parts"] = .int(Int64(parts)) }
        if let signature = self.signature { object["signature"] = .string(signature) }
        return object
    }

    /// Reads a batch from its JSON object; unknown members are ignored.
    public init(jsonObject object: [String: JSONValue]) throws(WireError) {
        let fields = ContractFields(object: object, what: "batch")
        var events = [AgentStatusEvent]()
        for (index, element) in try fields.array("events").enumerated() {
            guard let eventObject = element.objectValue else {
                throw WireError(code: .invalidMessage, detail: "batch event \(index) is not an object")
            }
            events.append(try AgentStatusEvent(jsonObject: eventObject))
        }
        let part = try fields.optionalInt("part")
        let parts = try fields.optionalInt("parts")
        self.init(
            batchID: try fields.string("batch_id"),
            managerNode: try fields.string("manager_node"),
            timestamp: try fields.string("timestamp"),
            events: events,
            summary: try BatchSummary(jsonObject: try fields.object("summary")),
            part: part.map { Int($0) },
            parts: parts.map { Int($0) },
            signature: try fields.optionalString("signature")
        )
    }
}
