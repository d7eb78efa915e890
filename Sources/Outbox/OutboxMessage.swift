/// What kind of NATS message an outbox row becomes.
public enum OutboxMessageKind: String, Sendable, Hashable, Codable {
    /// An event on `{prefix}.agent.{id}.status`.
    case event
    /// The same event again on a secondary subject (`.connected`, `.disconnected`, `.registered`, `.removed`).
    case secondary
    /// A per-cycle batch (or one part of it) on `{prefix}.security.agent_events`.
    case batch
}

/// One message journaled for delivery: everything needed to publish it, already signed.
///
/// Compression and encryption are applied at delivery time (encryption uses a fresh nonce per send).
public struct OutboxMessage: Sendable, Hashable {
    /// Journal order; delivery follows it.
    public var seq: Int64
    /// Dedup key and `Nats-Msg-Id`: the event id (suffixed for secondary subjects) or the batch id.
    public var messageID: String
    /// The event id this row belongs to (the batch id for batches).
    public var eventID: String
    public var kind: OutboxMessageKind
    public var subject: String
    /// Zero-padded agent id, `nil` for batches.
    public var agentID: String?
    /// Signed canonical JSON.
    public var payload: [UInt8]
    /// Unix epoch milliseconds when journaled.
    public var createdAt: Int64

    public init(
        seq: Int64, messageID: String, eventID: String, kind: OutboxMessageKind, subject: String,
        agentID: String?, payload: [UInt8], createdAt: Int64
    ) {
        self.seq = seq
        self.messageID = messageID
        self.eventID = eventID
        self.kind = kind
        self.subject = subject
        self.agentID = agentID
        self.payload = payload
        self.createdAt = createdAt
    }
}
