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

/// Reads the compact publish reply nats-server sends, `{"stream":"S","seq":N}` with optional
/// `,"duplicate":true|false` and `,"domain":"D"` members in that order, without a JSON decoder.
/// Returns `nil` for anything else (errors, escapes, spaces, other members), which the caller then decodes fully.
enum PubAckScanner {
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> PubAck? {
        var index = 0
        func expect(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let start = literal.utf8Start
            for offset in 0..<count where bytes[index + offset] != start[offset] {
                return false
            }
            index += count
            return true
        }
        func plainString() -> String? {
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    defer { index += 1 }
                    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                }
                guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
                index += 1
            }
            return nil
        }
        guard expect("{\"stream\":\""), let stream = plainString(), expect(",\"seq\":") else { return nil }
        var seq: UInt64 = 0
        let digitsStart = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let (times, overflowTimes) = seq.multipliedReportingOverflow(by: 10)
            let (plus, overflowPlus) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowPlus else { return nil }
            seq = plus
            index += 1
        }
        guard index > digitsStart else { return nil }
        var duplicate = false
        if expect(",\"duplicate\":true") {
            duplicate = true
        } else if expect(",\"duplicate\":false") {
            duplicate = false
        }
        var domain: String?
        if expect(",\"domain\":\"") {
            guard let value = plainString() else { return nil }
            domain = value
        }
        guard expect("}"), index == bytes.count else { return nil }
        return PubAck(stream: stream, seq: seq, duplicate: duplicate, domain: domain)
    }
}
