import Foundation

/// What the reply subject of a JetStream delivery tells about it.
///
/// The server writes `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>`
/// (newer servers prefix a domain and an account hash and may append a token:
/// `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>[.<token>]`,
/// with `_` for no domain).
public struct JetStreamMessageMetadata: Sendable, Hashable {
    public var stream: String
    public var consumer: String
    /// How often this message was delivered, this delivery included (`1` the first time).
    public var deliveryCount: UInt64
    public var streamSequence: UInt64
    public var consumerSequence: UInt64
    /// When the message was stored, in nanoseconds since 1970.
    public var timestampNanoseconds: Int64
    /// Matching messages in the stream not delivered yet, after this one.
    public var pending: UInt64
    /// The JetStream domain, if the server named one.
    public var domain: String?

    public init(
        stream: String, consumer: String, deliveryCount: UInt64, streamSequence: UInt64, consumerSequence: UInt64,
        timestampNanoseconds: Int64, pending: UInt64, domain: String? = nil
    ) {
        self.stream = stream
        self.consumer = consumer
        self.deliveryCount = deliveryCount
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        self.timestampNanoseconds = timestampNanoseconds
        self.pending = pending
        self.domain = domain
    }

    /// When the message was stored.
    public var timestamp: Date {
        Date(timeIntervalSince1970: Double(self.timestampNanoseconds) / 1e9)
    }

    /// Parses a reply subject; `nil` when it is not a JetStream ack subject.
    public init?(replySubject: String) {
        let tokens = replySubject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else { return nil }
        let fields: ArraySlice<Substring>
        var domain: String?
        switch tokens.count {
        case 9:
            fields = tokens[2...]
        case 11, 12:
            fields = tokens[4..<11]
            domain = tokens[2] == "_" ? nil : String(tokens[2])
        default:
            return nil
        }
        let start = fields.startIndex
        guard !fields[start].isEmpty, !fields[start + 1].isEmpty,
            let delivered = UInt64(fields[start + 2]),
            let streamSequence = UInt64(fields[start + 3]),
            let consumerSequence = UInt64(fields[start + 4]),
            let timestamp = Int64(fields[start + 5]),
            let pending = UInt64(fields[start + 6])
        else { return nil }
        self.init(
            stream: String(fields[start]), consumer: String(fields[start + 1]), deliveryCount: delivered,
            streamSequence: streamSequence, consumerSequence: consumerSequence, timestampNanoseconds: timestamp,
            pending: pending, domain: domain)
    }
}
