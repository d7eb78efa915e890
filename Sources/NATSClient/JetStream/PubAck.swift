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

/// Reads a publish reply that is a flat JSON object of `stream` and `seq` with optional `duplicate` and
/// `domain` members (any order, optional spaces, as nats-server writes it: `{"stream":"S", "seq":N}`) without a
/// JSON decoder. Returns `nil` for anything else (an `error` member, escapes, nesting, other members, missing
/// members), which the caller then decodes fully.
enum PubAckScanner {
    private enum Value {
        case string(String)
        case number(UInt64)
        case bool(Bool)
    }

    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> PubAck? {
        var scanner = Scanner(bytes: bytes)
        scanner.skipSpaces()
        guard scanner.take(UInt8(ascii: "{")) else { return nil }
        var stream: String?
        var seq: UInt64?
        var duplicate = false
        var domain: String?
        while true {
            scanner.skipSpaces()
            guard scanner.take(UInt8(ascii: "\"")), let key = scanner.stringBody() else { return nil }
            scanner.skipSpaces()
            guard scanner.take(UInt8(ascii: ":")) else { return nil }
            scanner.skipSpaces()
            guard let value = scanner.value() else { return nil }
            switch (key, value) {
            case ("stream", .string(let text)): stream = text
            case ("seq", .number(let number)): seq = number
            case ("duplicate", .bool(let flag)): duplicate = flag
            case ("domain", .string(let text)): domain = text
            default: return nil
            }
            scanner.skipSpaces()
            if scanner.take(UInt8(ascii: ",")) { continue }
            guard scanner.take(UInt8(ascii: "}")) else { return nil }
            break
        }
        scanner.skipSpaces()
        guard scanner.atEnd, let stream, let seq else { return nil }
        return PubAck(stream: stream, seq: seq, duplicate: duplicate, domain: domain)
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { self.index == self.bytes.count }

        mutating func skipSpaces() {
            while self.index < self.bytes.count,
                self.bytes[self.index] == UInt8(ascii: " ") || self.bytes[self.index] == UInt8(ascii: "\t")
                    || self.bytes[self.index] == UInt8(ascii: "\r") || self.bytes[self.index] == UInt8(ascii: "\n")
            {
                self.index += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard self.index < self.bytes.count, self.bytes[self.index] == byte else { return false }
            self.index += 1
            return true
        }

        mutating func take(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard self.bytes.count - self.index >= count else { return false }
            for offset in 0..<count where self.bytes[self.index + offset] != literal.utf8Start[offset] {
                return false
            }
            self.index += count
            return true
        }

        /// The rest of a string after its opening quote; `nil` when it holds an escape or a control byte.
        mutating func stringBody() -> String? {
            let start = self.index
            while self.index < self.bytes.count {
                let byte = self.bytes[self.index]
                if byte == UInt8(ascii: "\"") {
                    let text = String(
                        decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
                    self.index += 1
                    return text
                }
                guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
                self.index += 1
            }
            return nil
        }

        mutating func value() -> Value? {
            if self.take(UInt8(ascii: "\"")) {
                return self.stringBody().map(Value.string)
            }
            if self.take("true") { return .bool(true) }
            if self.take("false") { return .bool(false) }
            var number: UInt64 = 0
            let start = self.index
            while self.index < self.bytes.count, self.bytes[self.index] >= UInt8(ascii: "0"),
                self.bytes[self.index] <= UInt8(ascii: "9")
            {
                let (times, overflowTimes) = number.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = times.addingReportingOverflow(
                    UInt64(self.bytes[self.index] - UInt8(ascii: "0")))
                guard !overflowTimes, !overflowSum else { return nil }
                number = sum
                self.index += 1
            }
            return self.index > start ? .number(number) : nil
        }
    }
}
