import Crypto

/// A key read from a key file, base64 text or raw bytes (``SigningKey``, ``EncryptionKey``): each
/// checks the length in ``init(bytes:source:)``; reading and decoding are shared.
public protocol KeyMaterial: Sendable {
    /// Uses raw key bytes; `source` only labels the error.
    init(bytes: [UInt8], source: String) throws(KeyFileError)
}

extension KeyMaterial {
    /// Reads the key from a key file (base64 text, mode 0600 or stricter).
    public init(path: String) throws(KeyFileError) {
        try self.init(bytes: KeyFile.read(path: path), source: path)
    }

    /// Decodes the key from base64 text coming from `source` (e.g. `env:WAZUH_SIGNING_KEY`).
    public init(base64Text: String, source: String) throws(KeyFileError) {
        try self.init(bytes: KeyFile.decode(base64Text: Array(base64Text.utf8), source: source), source: source)
    }
}

/// The HMAC-SHA256 key that signs every published object (at least 32 bytes).
///
/// `description` never shows key material.
public struct SigningKey: KeyMaterial, CustomStringConvertible {
    /// The shortest accepted signing key, in bytes.
    public static let minimumLength = 32

    let key: SymmetricKey

    /// Uses raw key bytes; `source` only labels the error.
    public init(bytes: [UInt8], source: String = "<memory>") throws(KeyFileError) {
        guard bytes.count >= Self.minimumLength else {
            throw KeyFileError(
                code: .wrongLength, path: source, length: bytes.count,
                detail: "signing key has \(bytes.count) bytes, at least \(Self.minimumLength) required")
        }
        self.key = SymmetricKey(data: bytes)
    }

    /// The key length in bytes (not secret).
    public var byteCount: Int { self.key.bitCount / 8 }

    public var description: String { "SigningKey(\(self.byteCount) bytes)" }
}

/// The AES-256-GCM key that encrypts payloads (exactly 32 bytes).
///
/// `description` never shows key material.
public struct EncryptionKey: KeyMaterial, CustomStringConvertible {
    /// The only accepted encryption key length, in bytes.
    public static let length = 32

    let key: SymmetricKey

    /// Uses raw key bytes; `source` only labels the error.
    public init(bytes: [UInt8], source: String = "<memory>") throws(KeyFileError) {
        guard bytes.count == Self.length else {
            throw KeyFileError(
                code: .wrongLength, path: source, length: bytes.count,
                detail: "encryption key has \(bytes.count) bytes, exactly \(Self.length) required (AES-256)")
        }
        self.key = SymmetricKey(data: bytes)
    }

    public var description: String { "EncryptionKey(32 bytes)" }
}
