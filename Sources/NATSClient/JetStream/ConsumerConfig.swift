import Foundation

/// The configuration of a JetStream pull consumer, as sent to `$JS.API.CONSUMER.CREATE` and
/// `$JS.API.CONSUMER.DURABLE.CREATE`.
///
/// Durations travel as nanoseconds; `nil` fields are left out so the server applies its defaults.
/// Decoding a server's configuration ignores fields not listed here.
public struct ConsumerConfig: Sendable, Equatable, Codable {
    /// Where in the stream a new consumer starts.
    public enum DeliverPolicy: Sendable, Equatable {
        /// From the first message stored.
        case all
        /// From the last message stored.
        case last
        /// Only messages stored after the consumer was created.
        case new
        /// From this stream sequence (or the first message after it, if it was removed).
        case byStartSequence(UInt64)
        /// From the first message stored at or after this time.
        case byStartTime(Date)
    }

    /// How deliveries are acknowledged.
    public enum AckPolicy: String, Sendable, Codable {
        /// Nothing is acknowledged; nothing is redelivered.
        case none
        /// Acknowledging a message acknowledges every earlier one too.
        case all
        /// Each message is acknowledged on its own; unacknowledged ones are redelivered after `ackWait`.
        case explicit
    }

    /// Set for a durable consumer: its state outlives clients and server restarts.
    public var durableName: String?
    public var description: String?
    public var deliverPolicy: DeliverPolicy
    public var ackPolicy: AckPolicy
    /// How long the server waits for an acknowledgement before redelivering.
    public var ackWait: Duration?
    /// How often a message is delivered at most (`-1`: no limit).
    public var maxDeliver: Int?
    /// Only messages whose subject matches (wildcards allowed); `nil` for all of the stream's.
    public var filterSubject: String?
    /// How many delivered messages may wait for an acknowledgement at once.
    public var maxAckPending: Int?
    /// How many pull requests may wait at the server at once.
    public var maxWaiting: Int?
    /// An ephemeral consumer is removed after this long without pull requests.
    public var inactiveThreshold: Duration?

    public init(
        durableName: String? = nil,
        description: String? = nil,
        deliverPolicy: DeliverPolicy = .all,
        ackPolicy: AckPolicy = .explicit,
        ackWait: Duration? = nil,
        maxDeliver: Int? = nil,
        filterSubject: String? = nil,
        maxAckPending: Int? = nil,
        maxWaiting: Int? = nil,
        inactiveThreshold: Duration? = nil
    ) {
        self.durableName = durableName
        self.description = description
        self.deliverPolicy = deliverPolicy
        self.ackPolicy = ackPolicy
        self.ackWait = ackWait
        self.maxDeliver = maxDeliver
        self.filterSubject = filterSubject
        self.maxAckPending = maxAckPending
        self.maxWaiting = maxWaiting
        self.inactiveThreshold = inactiveThreshold
    }

    enum CodingKeys: String, CodingKey {
        case durableName = "durable_name"
        case description
        case deliverPolicy = "deliver_policy"
        case optStartSeq = "opt_start_seq"
        case optStartTime = "opt_start_time"
        case ackPolicy = "ack_policy"
        case ackWait = "ack_wait"
        case maxDeliver = "max_deliver"
        case filterSubject = "filter_subject"
        case maxAckPending = "max_ack_pending"
        case maxWaiting = "max_waiting"
        case inactiveThreshold = "inactive_threshold"
        case replayPolicy = "replay_policy"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.durableName = try container.decodeIfPresent(String.self, forKey: .durableName)
        self.description = try container.decodeIfPresent(String.self, forKey: .description)
        let policy = try container.decodeIfPresent(String.self, forKey: .deliverPolicy) ?? "all"
        switch policy {
        case "all": self.deliverPolicy = .all
        case "last": self.deliverPolicy = .last
        case "new": self.deliverPolicy = .new
        case "by_start_sequence":
            self.deliverPolicy = .byStartSequence(try container.decode(UInt64.self, forKey: .optStartSeq))
        case "by_start_time":
            let text = try container.decode(String.self, forKey: .optStartTime)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .optStartTime, in: container, debugDescription: "not an RFC 3339 time: \(text)")
            }
            self.deliverPolicy = .byStartTime(date)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .deliverPolicy, in: container, debugDescription: "unknown deliver policy \(policy)")
        }
        self.ackPolicy = try container.decodeIfPresent(AckPolicy.self, forKey: .ackPolicy) ?? .none
        self.ackWait = try container.decodeIfPresent(Int64.self, forKey: .ackWait).map { .nanoseconds($0) }
        self.maxDeliver = try container.decodeIfPresent(Int.self, forKey: .maxDeliver)
        self.filterSubject = try container.decodeIfPresent(String.self, forKey: .filterSubject)
        if self.filterSubject?.isEmpty == true { self.filterSubject = nil }
        self.maxAckPending = try container.decodeIfPresent(Int.self, forKey: .maxAckPending)
        self.maxWaiting = try container.decodeIfPresent(Int.self, forKey: .maxWaiting)
        self.inactiveThreshold = try container.decodeIfPresent(Int64.self, forKey: .inactiveThreshold).map {
            .nanoseconds($0)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(self.durableName, forKey: .durableName)
        try container.encodeIfPresent(self.description, forKey: .description)
        switch self.deliverPolicy {
        case .all: try container.encode("all", forKey: .deliverPolicy)
        case .last: try container.encode("last", forKey: .deliverPolicy)
        case .new: try container.encode("new", forKey: .deliverPolicy)
        case .byStartSequence(let sequence):
            try container.encode("by_start_sequence", forKey: .deliverPolicy)
            try container.encode(sequence, forKey: .optStartSeq)
        case .byStartTime(let date):
            try container.encode("by_start_time", forKey: .deliverPolicy)
            try container.encode(RFC3339.string(from: date), forKey: .optStartTime)
        }
        try container.encode(self.ackPolicy, forKey: .ackPolicy)
        try container.encodeIfPresent(self.ackWait?.nanoseconds, forKey: .ackWait)
        try container.encodeIfPresent(self.maxDeliver, forKey: .maxDeliver)
        try container.encodeIfPresent(self.filterSubject, forKey: .filterSubject)
        try container.encodeIfPresent(self.maxAckPending, forKey: .maxAckPending)
        try container.encodeIfPresent(self.maxWaiting, forKey: .maxWaiting)
        try container.encodeIfPresent(self.inactiveThreshold?.nanoseconds, forKey: .inactiveThreshold)
        try container.encode("instant", forKey: .replayPolicy)
    }
}

/// A consumer's configuration and state as reported by `$JS.API.CONSUMER.INFO` (and the create calls).
public struct ConsumerInfo: Sendable, Equatable, Decodable {
    /// A pair of consumer and stream sequences.
    public struct SequencePair: Sendable, Equatable, Decodable {
        public var consumerSeq: UInt64
        public var streamSeq: UInt64

        enum CodingKeys: String, CodingKey {
            case consumerSeq = "consumer_seq"
            case streamSeq = "stream_seq"
        }
    }

    public var streamName: String
    public var name: String
    public var config: ConsumerConfig
    /// The last message delivered (not necessarily acknowledged).
    public var delivered: SequencePair
    /// Everything up to here is acknowledged.
    public var ackFloor: SequencePair
    /// Delivered and waiting for an acknowledgement.
    public var numAckPending: Int
    public var numRedelivered: Int
    /// Pull requests waiting at the server.
    public var numWaiting: Int
    /// Matching messages in the stream not delivered yet.
    public var numPending: UInt64

    enum CodingKeys: String, CodingKey {
        case streamName = "stream_name"
        case name
        case config
        case delivered
        case ackFloor = "ack_floor"
        case numAckPending = "num_ack_pending"
        case numRedelivered = "num_redelivered"
        case numWaiting = "num_waiting"
        case numPending = "num_pending"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.streamName = try container.decode(String.self, forKey: .streamName)
        self.name = try container.decode(String.self, forKey: .name)
        self.config = try container.decode(ConsumerConfig.self, forKey: .config)
        self.delivered = try container.decode(SequencePair.self, forKey: .delivered)
        self.ackFloor = try container.decode(SequencePair.self, forKey: .ackFloor)
        self.numAckPending = try container.decodeIfPresent(Int.self, forKey: .numAckPending) ?? 0
        self.numRedelivered = try container.decodeIfPresent(Int.self, forKey: .numRedelivered) ?? 0
        self.numWaiting = try container.decodeIfPresent(Int.self, forKey: .numWaiting) ?? 0
        self.numPending = try container.decodeIfPresent(UInt64.self, forKey: .numPending) ?? 0
    }
}

/// RFC 3339 times as JetStream writes them (UTC, optional fractional seconds).
enum RFC3339 {
    static func date(from text: String) -> Date? {
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = fractional.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        // Go writes up to nine fractional digits; Foundation reads at most three.
        guard let dot = text.firstIndex(of: "."),
            let end = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" })
        else { return nil }
        let digits = text[text.index(after: dot)..<end]
        guard digits.count > 3 else { return nil }
        return fractional.date(from: String(text[..<dot]) + "." + digits.prefix(3) + text[end...])
    }

    /// UTC with microseconds (Foundation's formatter stops at milliseconds).
    static func string(from date: Date) -> String {
        let time = date.timeIntervalSince1970
        var seconds = time.rounded(.down)
        var micros = Int(((time - seconds) * 1e6).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        let whole = formatter.string(from: Date(timeIntervalSince1970: seconds))
        let fraction = String(micros)
        return whole.dropLast() + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }
}
