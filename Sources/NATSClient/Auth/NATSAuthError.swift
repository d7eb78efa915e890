/// A failure to read, decode or use NATS authentication material (NKey seeds, public keys,
/// `.creds` files, JWTs).
///
/// The `description` names the problem and, for files, the path and permission bits, but never
/// contains key material, seeds, JWTs or file contents; `debugDescription` adds the underlying
/// error and the source location.
public struct NATSAuthError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of problem this is.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case invalidEncoding
            case invalidLength
            case invalidChecksum
            case invalidPrefix
            case unexpectedKeyType
            case insecurePermissions
            case fileUnreadable
            case malformedCredentials
            case credentialsMismatch
            case malformedJWT
            case signingFailed
        }

        let base: Base

        /// The text is not canonical unpadded base32 (`A`–`Z`, `2`–`7`).
        public static let invalidEncoding = Code(base: .invalidEncoding)
        /// The decoded key has the wrong number of bytes (truncated or padded).
        public static let invalidLength = Code(base: .invalidLength)
        /// The CRC16 appended to the key does not match its bytes.
        public static let invalidChecksum = Code(base: .invalidChecksum)
        /// The prefix byte names no known key kind (or a seed was expected and this is not one).
        public static let invalidPrefix = Code(base: .invalidPrefix)
        /// A valid key of another type than the one required (e.g. an account seed where a user seed belongs).
        public static let unexpectedKeyType = Code(base: .unexpectedKeyType)
        /// A secret file is readable or writable by group or others.
        public static let insecurePermissions = Code(base: .insecurePermissions)
        /// A secret file cannot be opened or read, or is not a regular file.
        public static let fileUnreadable = Code(base: .fileUnreadable)
        /// A `.creds` text lacks its JWT or seed block, or a block is empty or unterminated.
        public static let malformedCredentials = Code(base: .malformedCredentials)
        /// The seed in a `.creds` file does not belong to the JWT's subject.
        public static let credentialsMismatch = Code(base: .credentialsMismatch)
        /// A JWT is not three base64url parts with a JSON header and claims.
        public static let malformedJWT = Code(base: .malformedJWT)
        /// The Ed25519 implementation refused to sign.
        public static let signingFailed = Code(base: .signingFailed)

        public var description: String {
            switch base {
            case .invalidEncoding: "invalidEncoding"
            case .invalidLength: "invalidLength"
            case .invalidChecksum: "invalidChecksum"
            case .invalidPrefix: "invalidPrefix"
            case .unexpectedKeyType: "unexpectedKeyType"
            case .insecurePermissions: "insecurePermissions"
            case .fileUnreadable: "fileUnreadable"
            case .malformedCredentials: "malformedCredentials"
            case .credentialsMismatch: "credentialsMismatch"
            case .malformedJWT: "malformedJWT"
            case .signingFailed: "signingFailed"
            }
        }
    }

    /// What kind of problem this is.
    public var code: Code
    /// A human-readable explanation free of secrets.
    public var message: String
    /// The file involved, when the material came from a file.
    public var path: String?
    /// The file's permission bits, for `insecurePermissions`.
    public var mode: UInt32?
    /// The error that caused this one, if any (e.g. an `errno` failure). Shown only in `debugDescription`.
    public var underlying: (any Error & Sendable)?
    /// Where the error was raised.
    public var file: String
    /// Where the error was raised.
    public var line: Int

    init(
        _ code: Code,
        _ message: String,
        path: String? = nil,
        mode: UInt32? = nil,
        underlying: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.path = path
        self.mode = mode
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "NATS auth error (\(code)): \(message)"
        if let path {
            text += " [path: \(path)"
            if let mode {
                text += ", mode: 0" + String(mode & 0o7777, radix: 8)
            }
            text += "]"
        }
        return text
    }

    public var debugDescription: String {
        var text = description
        if let underlying {
            text += " underlying: \(String(reflecting: underlying))"
        }
        return text + " at \(file):\(line)"
    }
}
