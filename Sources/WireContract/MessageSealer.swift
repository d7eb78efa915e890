/// Header names and values of the wire contract.
public enum WireHeaders {
    public static let messageID = "Nats-Msg-Id"
    public static let contentType = "Content-Type"
    public static let contentEncoding = "Content-Encoding"
    public static let encryption = "Wazuh-Encryption"
    public static let json = "application/json"
    public static let lz4 = "lz4"
    public static let aes256GCM = "aes-256-gcm"
}

/// A message ready to publish: subject, headers and the (possibly compressed and encrypted) payload.
public struct SealedMessage: Sendable {
    public var subject: String
    /// In order: `Nats-Msg-Id`, `Content-Type`, then `Content-Encoding` and `Wazuh-Encryption` when applied.
    public var headers: [(String, String)]
    public var payload: [UInt8]

    public init(subject: String, headers: [(String, String)], payload: [UInt8]) {
        self.subject = subject
        self.headers = headers
        self.payload = payload
    }

    /// The value of the first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// Gateway side: turns a signed payload into a ``SealedMessage`` — compressed when longer than
/// `compressionMinBytes`, then encrypted when an encryption key is configured.
///
/// Encryption uses a fresh random nonce on every call, so sealing the same row twice (a resend) gives
/// different bytes with the same `Nats-Msg-Id`; JetStream deduplicates by the id.
public struct MessageSealer: Sendable {
    /// Payloads strictly longer than this are compressed (`delivery.compression_min_bytes`).
    public var compressionMinBytes: Int
    /// Whether compression is applied at all.
    public var compressionEnabled: Bool
    /// When set, payloads are encrypted (`security.encrypt_messages`).
    public var encryptionKey: EncryptionKey?

    public init(compressionMinBytes: Int = 1024, compressionEnabled: Bool = true, encryptionKey: EncryptionKey? = nil) {
        self.compressionMinBytes = compressionMinBytes
        self.compressionEnabled = compressionEnabled
        self.encryptionKey = encryptionKey
    }

    /// Seals one message. `signedPayload` is the canonical JSON with its signature, as journaled.
    public func seal(subject: String, signedPayload: [UInt8], messageID: String) throws(WireError) -> SealedMessage {
        var headers: [(String, String)] = [
            (WireHeaders.messageID, messageID),
            (WireHeaders.contentType, WireHeaders.json),
        ]
        var payload = signedPayload
        if self.compressionEnabled && payload.count > self.compressionMinBytes {
            payload = try LZ4Frame.compress(payload)
            headers.append((WireHeaders.contentEncoding, WireHeaders.lz4))
        }
        if let key = self.encryptionKey {
            payload = try PayloadCipher.seal(payload, subject: subject, key: key)
            headers.append((WireHeaders.encryption, WireHeaders.aes256GCM))
        }
        return SealedMessage(subject: subject, headers: headers, payload: payload)
    }
}
