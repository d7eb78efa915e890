/// Sealing or opening a message failed; `code` says at which step.
///
/// Never contains key material or payload bytes; `message` names the problem (e.g. which field is missing).
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The step that failed.
    public enum Code: String, Sendable, Hashable {
        /// A subject prefix that is not dot-separated tokens of `[A-Za-z0-9_-]`.
        case invalidSubjectPrefix
        /// liblz4 refused to compress (out of memory or an internal error).
        case compressionFailed
        /// The payload claims LZ4 but is not a valid LZ4 frame (garbage, truncated, bad checksum).
        case decompressionFailed
        /// The LZ4 frame would inflate beyond the configured maximum.
        case decompressedTooLarge
        /// AES-GCM sealing failed.
        case encryptionFailed
        /// The payload is marked encrypted but cannot be decrypted: wrong key, wrong subject, tampered,
        /// too short.
        case decryptionFailed
        /// The payload is encrypted but no encryption key was configured to open it.
        case encryptionKeyMissing
        /// The headers name an encoding or encryption this version does not know.
        case unsupportedEncoding
        /// The payload is not JSON (see `parseError`).
        case malformedJSON
        /// The JSON does not have the contract's shape (missing or mistyped field).
        case invalidMessage
        /// The object (or a nested event) carries no `signature` member.
        case signatureMissing
        /// The signature does not match: the object was altered or signed with another key.
        case signatureMismatch
    }

    /// The step that failed.
    public var code: Code
    /// Which field, event or limit; never payload or key bytes.
    public var message: String
    /// The parser's error, for `malformedJSON`.
    public var parseError: JSONParseError?
    /// The error that caused this one: the parser's, for `malformedJSON`.
    public var underlying: (any Error)? { self.parseError }

    public init(code: Code, message: String, parseError: JSONParseError? = nil) {
        self.code = code
        self.message = message
        self.parseError = parseError
    }

    public var description: String {
        var text = "\(self.code.rawValue): \(self.message)"
        if let parseError = self.parseError { text += " (\(parseError))" }
        return text
    }

    public var debugDescription: String { "WireError(\(self.description))" }
}
