import Crypto
import Foundation

/// An NKey: an Ed25519 key pair whose seed and public key are written in the NATS text form
/// (prefix byte(s) + key + CRC16, base32 without padding).
///
/// A seed looks like `SUAM…` (58 characters: `S` marks a seed, the next letter its type), a
/// public key like `UDXU…` (56 characters). The seed is the secret: `description` and
/// `debugDescription` show only the type and public key.
public struct NKeyPair: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The role of this key.
    public let type: NKeyType
    /// The public key in NATS text form (`U…`, `A…`, `O…`, `N…`, `C…`).
    public let publicKey: String
    private let signingKey: Curve25519.Signing.PrivateKey

    private static let rawKeyLength = 32

    /// Decodes a seed in NATS text form (`SU…`, `SA…`, `SO…`, …). Surrounding whitespace is ignored.
    ///
    /// - Throws: `NATSAuthError` with `invalidEncoding`, `invalidLength`, `invalidChecksum` or
    ///   `invalidPrefix`; never containing the seed.
    public init(seed: String) throws {
        let raw = try Self.decodeChecked(seed.trimmingASCIIWhitespace(), what: "seed")
        guard raw.count == 2 + Self.rawKeyLength else {
            throw NATSAuthError(
                .invalidLength, "an NKey seed holds \(2 + Self.rawKeyLength) bytes, this one \(raw.count)")
        }
        guard raw[0] & 0xF8 == NKeyType.seedPrefixByte else {
            throw NATSAuthError(.invalidPrefix, "the text is not an NKey seed (a seed starts with 'S')")
        }
        let typeByte = ((raw[0] & 0x07) << 5) | ((raw[1] & 0xF8) >> 3)
        guard let type = NKeyType(prefixByte: typeByte) else {
            throw NATSAuthError(.invalidPrefix, "the seed's type byte names no known NKey type")
        }
        try self.init(type: type, rawSeed: Array(raw[2...]))
    }

    /// Builds a key pair from the 32-byte Ed25519 seed.
    public init(type: NKeyType, rawSeed: [UInt8]) throws {
        guard rawSeed.count == Self.rawKeyLength else {
            throw NATSAuthError(.invalidLength, "an Ed25519 seed holds 32 bytes, this one \(rawSeed.count)")
        }
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawSeed)
        } catch {
            throw NATSAuthError(.invalidLength, "the Ed25519 implementation refused the seed", underlying: error)
        }
        self.init(type: type, signingKey: key)
    }

    private init(type: NKeyType, signingKey: Curve25519.Signing.PrivateKey) {
        self.type = type
        self.signingKey = signingKey
        self.publicKey = Self.encode(prefix: [type.prefixByte], key: Array(signingKey.publicKey.rawRepresentation))
    }

    /// A new random key pair of the given type.
    public static func generate(_ type: NKeyType) -> NKeyPair {
        NKeyPair(type: type, signingKey: Curve25519.Signing.PrivateKey())
    }

    /// The seed in NATS text form. Secret: never log it.
    public var seed: String {
        let prefix = type.prefixByte
        let first = NKeyType.seedPrefixByte | (prefix >> 5)
        let second = (prefix & 0x1F) << 3
        return Self.encode(prefix: [first, second], key: Array(signingKey.rawRepresentation))
    }

    /// The raw 32-byte Ed25519 public key.
    public var rawPublicKey: [UInt8] {
        Array(signingKey.publicKey.rawRepresentation)
    }

    /// The 64-byte Ed25519 signature of `data`.
    public func sign(_ data: some DataProtocol) throws -> [UInt8] {
        do {
            return Array(try signingKey.signature(for: data))
        } catch {
            throw NATSAuthError(.signingFailed, "Ed25519 signing failed", underlying: error)
        }
    }

    /// The signature of a server INFO `nonce` as the CONNECT `sig` field wants it: the nonce's
    /// UTF-8 bytes signed, the 64-byte signature in base64url without padding.
    public func signNonce(_ nonce: String) throws -> String {
        Base64URL.encode(try sign(Array(nonce.utf8)))
    }

    /// Whether `signature` is a valid Ed25519 signature of `data` by the holder of `publicKey`
    /// (NATS text form). A malformed public key is simply not valid.
    public static func verify(signature: some DataProtocol, data: some DataProtocol, publicKey: String) -> Bool {
        guard let decoded = try? decodePublicKey(publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: decoded.key)
        else { return false }
        return key.isValidSignature(signature, for: data)
    }

    /// Decodes a public key in NATS text form into its type and raw 32 Ed25519 bytes.
    public static func decodePublicKey(_ text: String) throws -> (type: NKeyType, key: [UInt8]) {
        let raw = try decodeChecked(text.trimmingASCIIWhitespace(), what: "public key")
        guard raw.count == 1 + rawKeyLength else {
            throw NATSAuthError(
                .invalidLength, "an NKey public key holds \(1 + rawKeyLength) bytes, this one \(raw.count)")
        }
        guard let type = NKeyType(prefixByte: raw[0]) else {
            throw NATSAuthError(.invalidPrefix, "the public key's prefix names no known NKey type")
        }
        return (type, Array(raw[1...]))
    }

    public var description: String {
        "NKeyPair(\(type), \(publicKey))"
    }

    public var debugDescription: String {
        description
    }

    private static func encode(prefix: [UInt8], key: [UInt8]) -> String {
        var bytes = prefix + key
        let crc = CRC16.checksum(bytes)
        bytes.append(UInt8(truncatingIfNeeded: crc))
        bytes.append(UInt8(truncatingIfNeeded: crc >> 8))
        return Base32.encode(bytes)
    }

    /// Base32-decodes `text` and verifies and strips the trailing little-endian CRC16.
    private static func decodeChecked(_ text: Substring, what: String) throws -> [UInt8] {
        let raw: [UInt8]
        switch Base32.decode(text) {
        case .success(let bytes):
            raw = bytes
        case .failure(.invalidCharacter(let offset)):
            throw NATSAuthError(.invalidEncoding, "the \(what) has a character outside base32 at offset \(offset)")
        case .failure(.invalidLength):
            throw NATSAuthError(.invalidLength, "the \(what) has a length no base32 key can have (\(text.utf8.count))")
        case .failure(.nonCanonicalTrailingBits):
            throw NATSAuthError(.invalidEncoding, "the \(what) is not canonical base32 (non-zero trailing bits)")
        }
        guard raw.count > 2 else {
            throw NATSAuthError(.invalidLength, "the \(what) is too short (\(raw.count) bytes)")
        }
        let body = raw[..<(raw.count - 2)]
        let stored = UInt16(raw[raw.count - 2]) | (UInt16(raw[raw.count - 1]) << 8)
        guard CRC16.checksum(body) == stored else {
            throw NATSAuthError(.invalidChecksum, "the \(what)'s CRC16 checksum does not match")
        }
        return Array(body)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, CR and LF.
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        let string = Substring(self)
        guard let start = string.firstIndex(where: { !isSpace($0) }),
            let end = string.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return string[start...end]
    }
}
