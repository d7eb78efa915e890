/// The parts of a JetStream stream's configuration this client manages.
///
/// Durations travel as nanoseconds; `-1` means unlimited for the size limits. Decoding a server's
/// configuration ignores fields not listed here.
public struct StreamConfig: Sendable, Equatable, Codable {
    /// Where the server keeps the messages.
    public enum Storage: String, Sendable, Codable {
        case file
        case memory
    }

    /// What the server does when a limit is reached.
    public enum DiscardPolicy: String, Sendable, Codable {
        /// Remove old messages to make room.
        case old
        /// Refuse new messages when full.
        case new
    }

    public var name: String
    public var subjects: [String]
    public var storage: Storage
    public var replicas: Int
    /// How long `Nats-Msg-Id` values are remembered for de-duplication.
    public var duplicateWindow: Duration
    /// Maximum age of messages; `.zero` keeps them forever.
    public var maxAge: Duration
    public var maxBytes: Int64
    public var maxMsgs: Int64
    public var discard: DiscardPolicy

    public init(
        name: String,
        subjects: [String],
        storage: Storage = .file,
        replicas: Int = 1,
        duplicateWindow: Duration = .seconds(120),
        maxAge: Duration = .zero,
        maxBytes: Int64 = -1,
        maxMsgs: Int64 = -1,
        discard: DiscardPolicy = .old
    ) {
        self.name = name
        self.subjects = subjects
        self.storage = storage
        self.replicas = replicas
        self.duplicateWindow = duplicateWindow
        self.maxAge = maxAge
        self.maxBytes = maxBytes
        self.maxMsgs = maxMsgs
        self.discard = discard
    }

    enum CodingKeys: String, CodingKey {
        case name
        case subjects
        case storage
        case replicas = "num_replicas"
        case duplicateWindow = "duplicate_window"
        case maxAge = "max_age"
        case maxBytes = "max_bytes"
        case maxMsgs = "max_msgs"
        case discard
        case retention
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decode(String.self, forKey: .name)
        self.subjects = try container.decodeIfPresent([String].self, forKey: .subjects) ?? []
        self.storage = try container.decodeIfPresent(Storage.self, forKey: .storage) ?? .file
        self.replicas = try container.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        self.duplicateWindow = .nanoseconds(try container.decodeIfPresent(Int64.self, forKey: .duplicateWindow) ?? 0)
        self.maxAge = .nanoseconds(try container.decodeIfPresent(Int64.self, forKey: .maxAge) ?? 0)
        self.maxBytes = try container.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        self.maxMsgs = try container.decodeIfPresent(Int64.self, forKey: .maxMsgs) ?? -1
        self.discard = try container.decodeIfPresent(DiscardPolicy.self, forKey: .discard) ?? .old
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.name, forKey: .name)
        try container.encode(self.subjects, forKey: .subjects)
        try container.encode(self.storage, forKey: .storage)
        try container.encode(self.replicas, forKey: .replicas)
        try container.encode(self.duplicateWindow.nanoseconds, forKey: .duplicateWindow)
        try container.encode(self.maxAge.nanoseconds, forKey: .maxAge)
        try container.encode(self.maxBytes, forKey: .maxBytes)
        try container.encode(self.maxMsgs, forKey: .maxMsgs)
        try container.encode(self.discard, forKey: .discard)
        try container.encode("limits", forKey: .retention)
    }
}

/// A stream's configuration and state as reported by `$JS.API.STREAM.INFO`.
public struct StreamInfo: Sendable, Equatable, Decodable {
    /// Message counts and sequence range.
    public struct State: Sendable, Equatable, Decodable {
        public var messages: UInt64
        public var bytes: UInt64
        public var firstSeq: UInt64
        public var lastSeq: UInt64

        enum CodingKeys: String, CodingKey {
            case messages
            case bytes
            case firstSeq = "first_seq"
            case lastSeq = "last_seq"
        }
    }

    public var config: StreamConfig
    public var state: State
}

/// A message read back from a stream with `$JS.API.STREAM.MSG.GET`.
public struct StoredMessage: Sendable, Equatable {
    public var subject: String
    public var sequence: UInt64
    public var headers: NATSHeaders?
    public var payload: [UInt8]
}
