/// The server's acknowledgement of a JetStream publish: the message is stored at `seq` in `stream`.
public struct PubAck: Sendable, Equatable, Decodable {
    public var stream: String
    public var seq: UInt64
    /// `true` when the stream already held a message with the same `Nats-Msg-Id` in its duplicate window:
    /// nothing new was stored and `seq` is that earlier message's sequence.
    public var duplicate: Bool
    public var domain: String?

    enum CodingKeys: String, CodingKey {
        case stream
        case seq
        case duplicate
        case domain
    }

    public init(stream: String, seq: UInt64, duplicate: Bool = false, domain: String? = nil) {
        self.stream = stream
        self.seq = seq
        self.duplicate = duplicate
        self.domain = domain
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.stream = try container.decode(String.self, forKey: .stream)
        self.seq = try container.decode(UInt64.self, forKey: .seq)
        self.duplicate = try container.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
        self.domain = try container.decodeIfPresent(String.self, forKey: .domain)
    }
}

/// Conditions the server checks before storing a published message (sent as `Nats-Expected-*` headers).
public struct JetStreamPublishExpectations: Sendable, Equatable {
    /// `Nats-Expected-Stream`: the stream that must capture the subject.
    public var stream: String?
    /// `Nats-Expected-Last-Sequence`.
    public var lastSequence: UInt64?
    /// `Nats-Expected-Last-Subject-Sequence`.
    public var lastSubjectSequence: UInt64?
    /// `Nats-Expected-Last-Msg-Id`.
    public var lastMessageID: String?

    public init(
        stream: String? = nil,
        lastSequence: UInt64? = nil,
        lastSubjectSequence: UInt64? = nil,
        lastMessageID: String? = nil
    ) {
        self.stream = stream
        self.lastSequence = lastSequence
        self.lastSubjectSequence = lastSubjectSequence
        self.lastMessageID = lastMessageID
    }

    func apply(to headers: inout NATSHeaders) {
        if let stream { headers.set(name: "Nats-Expected-Stream", value: stream) }
        if let lastSequence { headers.set(name: "Nats-Expected-Last-Sequence", value: String(lastSequence)) }
        if let lastSubjectSequence {
            headers.set(name: "Nats-Expected-Last-Subject-Sequence", value: String(lastSubjectSequence))
        }
        if let lastMessageID { headers.set(name: "Nats-Expected-Last-Msg-Id", value: lastMessageID) }
    }
}
