import Crypto

/// One record of the gateway's tamper-evident audit log: a message the NATS server acknowledged.
///
/// Records form a hash chain: each record's ``hash`` covers its own fields and the previous record's
/// hash, so changing, deleting, inserting or reordering any record breaks every hash after it. The
/// chain head (``AuditHead``) travels in every heartbeat, so a consumer who kept an earlier head can
/// tell whether the history it saw was rewritten.
///
/// `hash` = SHA-256 of, in order (integers big-endian):
/// `previous_hash` (32 bytes) ‖ `sequence` (8) ‖ `recorded_at` (8, epoch ms) ‖ `outbox_seq` (8) ‖
/// `stream_sequence` (1 byte 0 when unknown, or 1 then 8 bytes) ‖ `len(subject)` (4) ‖ subject UTF-8 ‖
/// `len(message_id)` (4) ‖ message id UTF-8 ‖ `payload_sha256` (32) — and, for any ``kind`` other than
/// `delivery` (since contract 1.2), `len(kind)` (4) ‖ kind UTF-8, so records written before kinds existed
/// keep their hashes.
/// The first record of a chain has `previous_hash` = 32 zero bytes.
public struct AuditRecord: Sendable, Hashable {
    /// What was acknowledged.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A journaled message delivered by the gateway (`outbox_seq` is its row).
        case delivery
        /// A heartbeat (never journaled: `outbox_seq` is 0), once the server has it.
        case heartbeat
        /// A journaled message re-published by `replay` (`outbox_seq` is the row replayed, `message_id`
        /// the replay's own id).
        case replay
    }

    /// Position in the chain, from 1, without gaps.
    public var sequence: Int64
    /// When the acknowledgement was recorded (Unix epoch milliseconds).
    public var recordedAt: Int64
    /// The outbox row that was delivered.
    public var outboxSeq: Int64
    public var subject: String
    /// The `Nats-Msg-Id` header sent.
    public var messageID: String
    /// The JetStream stream sequence from the PubAck, when known.
    public var streamSequence: UInt64?
    /// SHA-256 of the exact payload bytes sent (after compression and encryption).
    public var payloadSHA256: [UInt8]
    public var previousHash: [UInt8]
    public var hash: [UInt8]
    public var kind: Kind

    public init(
        sequence: Int64, recordedAt: Int64, outboxSeq: Int64, subject: String, messageID: String,
        streamSequence: UInt64?, payloadSHA256: [UInt8], previousHash: [UInt8], hash: [UInt8],
        kind: Kind = .delivery
    ) {
        self.kind = kind
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.outboxSeq = outboxSeq
        self.subject = subject
        self.messageID = messageID
        self.streamSequence = streamSequence
        self.payloadSHA256 = payloadSHA256
        self.previousHash = previousHash
        self.hash = hash
    }

    /// A record chained after `previousHash`, with its hash computed.
    public static func chained(
        sequence: Int64, recordedAt: Int64, outboxSeq: Int64, subject: String, messageID: String,
        streamSequence: UInt64?, payloadSHA256: [UInt8], previousHash: [UInt8], kind: Kind = .delivery
    ) -> AuditRecord {
        var record = AuditRecord(
            sequence: sequence, recordedAt: recordedAt, outboxSeq: outboxSeq, subject: subject,
            messageID: messageID, streamSequence: streamSequence, payloadSHA256: payloadSHA256,
            previousHash: previousHash, hash: [], kind: kind)
        record.hash = record.computedHash()
        return record
    }

    /// The previous hash of the first record of a chain.
    public static let genesisHash = [UInt8](repeating: 0, count: 32)

    /// SHA-256 of `bytes` (the digest of a sent payload).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        self.sha256(Array(bytes))
    }

    /// The hash this record's fields and ``previousHash`` call for (compare with ``hash``).
    public func computedHash() -> [UInt8] {
        var scratch: [UInt8] = []
        return Self.chainHash(
            sequence: self.sequence, recordedAt: self.recordedAt, outboxSeq: self.outboxSeq, subject: self.subject,
            messageID: self.messageID, streamSequence: self.streamSequence, payloadSHA256: self.payloadSHA256,
            previousHash: self.previousHash, kind: self.kind, scratch: &scratch)
    }

    /// The record hash of the given fields (the layout in the type's documentation), built in `scratch`
    /// (emptied first, its capacity kept): a caller appending many records reuses one buffer, so a record
    /// costs one hasher pass and the 32-byte result, without building an ``AuditRecord``.
    public static func chainHash(
        sequence: Int64, recordedAt: Int64, outboxSeq: Int64, subject: String, messageID: String,
        streamSequence: UInt64?, payloadSHA256: [UInt8], previousHash: [UInt8], kind: Kind, scratch: inout [UInt8]
    ) -> [UInt8] {
        var hash: [UInt8] = []
        Self.chainHash(
            sequence: sequence, recordedAt: recordedAt, outboxSeq: outboxSeq, subject: subject, messageID: messageID,
            streamSequence: streamSequence, payloadSHA256: payloadSHA256, previousHash: previousHash, kind: kind,
            scratch: &scratch, into: &hash)
        return hash
    }

    /// The same hash, written into `hash` (made 32 bytes long; a buffer of that length is reused as it
    /// is): a caller chaining many records alternates two buffers and allocates nothing per record.
    public static func chainHash(
        sequence: Int64, recordedAt: Int64, outboxSeq: Int64, subject: String, messageID: String,
        streamSequence: UInt64?, payloadSHA256: [UInt8], previousHash: [UInt8], kind: Kind, scratch: inout [UInt8],
        into hash: inout [UInt8]
    ) {
        scratch.removeAll(keepingCapacity: true)
        scratch.reserveCapacity(32 + 8 * 3 + 9 + 8 + subject.utf8.count + messageID.utf8.count + 32 + 16)
        scratch += previousHash
        Self.append(UInt64(bitPattern: sequence), to: &scratch)
        Self.append(UInt64(bitPattern: recordedAt), to: &scratch)
        Self.append(UInt64(bitPattern: outboxSeq), to: &scratch)
        if let stream = streamSequence {
            scratch.append(1)
            Self.append(stream, to: &scratch)
        } else {
            scratch.append(0)
        }
        Self.appendLengthPrefixed(subject, to: &scratch)
        Self.appendLengthPrefixed(messageID, to: &scratch)
        scratch += payloadSHA256
        if kind != .delivery { Self.appendLengthPrefixed(kind.rawValue, to: &scratch) }
        var hasher = SHA256()
        scratch.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let digest = hasher.finalize()
        if hash.count != SHA256.byteCount { hash = [UInt8](repeating: 0, count: SHA256.byteCount) }
        digest.withUnsafeBytes { source in
            hash.withUnsafeMutableBytes { $0.copyMemory(from: source) }
        }
    }

    private static func appendLengthPrefixed(_ text: String, to bytes: inout [UInt8]) {
        Self.append(UInt32(truncatingIfNeeded: text.utf8.count), to: &bytes)
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// `value` big-endian, appended as one block.
    private static func append(_ value: some FixedWidthInteger, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// The record as one `audit export` JSON line object: `sequence`, `recorded_at` (epoch ms),
    /// `timestamp` (RFC 3339), `outbox_seq`, `subject`, `message_id`, `stream_sequence` (or null),
    /// `payload_sha256`, `previous_hash`, `hash` (lower-case hex); since contract 1.2 also `kind`
    /// (`delivery` | `heartbeat` | `replay`).
    public var jsonObject: [String: JSONValue] {
        [
            "kind": .string(self.kind.rawValue),
            "sequence": .int(self.sequence),
            "recorded_at": .int(self.recordedAt),
            "timestamp": .string(WireTimestamp.string(unixSeconds: self.recordedAt / 1000)),
            "outbox_seq": .int(self.outboxSeq),
            "subject": .string(self.subject),
            "message_id": .string(self.messageID),
            "stream_sequence": self.streamSequence.flatMap { Int64(exactly: $0) }.map { .int($0) } ?? .null,
            "payload_sha256": .string(Hex.encode(self.payloadSHA256)),
            "previous_hash": .string(Hex.encode(self.previousHash)),
            "hash": .string(Hex.encode(self.hash)),
        ]
    }
}

/// The latest record of the audit chain: its sequence and hash (in heartbeats as `audit_head`).
public struct AuditHead: Sendable, Hashable {
    public var sequence: Int64
    public var hash: [UInt8]

    public init(sequence: Int64, hash: [UInt8]) {
        self.sequence = sequence
        self.hash = hash
    }

    /// `{"sequence": n, "hash": "<hex>"}`.
    public var jsonObject: [String: JSONValue] {
        ["sequence": .int(self.sequence), "hash": .string(Hex.encode(self.hash))]
    }
}

/// Lower-case hexadecimal text of bytes (hashes in the audit log and its export).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(Self.digits[Int(byte >> 4)])
            text.append(Self.digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The bytes of even-length hex text, `nil` for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
