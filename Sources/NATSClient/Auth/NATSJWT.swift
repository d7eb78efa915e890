import Crypto
import Foundation

/// Minting and decoding of NATS JWTs (the v2 claim format of decentralized, operator-mode
/// authentication) so tests and tools can create operator, account and user identities without
/// `nsc`.
///
/// A NATS JWT is `base64url(header) . base64url(claims) . base64url(signature)`, no padding, the
/// header `{"typ":"JWT","alg":"ed25519-nkey"}`, the signature an Ed25519 signature by the issuer's
/// NKey over the first two segments. Operators sign themselves and their accounts; accounts sign
/// their users. `jti` is the unpadded base32 SHA-256 of the claims serialized with an empty `jti`
/// (the server treats it as an opaque identifier).
public enum NATSJWT {
    /// The fields of a decoded JWT that identify it.
    public struct Claims: Sendable, Equatable {
        /// `iss`: the public key that signed the JWT.
        public var issuer: String
        /// `sub`: the public key the JWT describes.
        public var subject: String
        /// `name`, empty when absent.
        public var name: String
        /// `nats.type`: `operator`, `account` or `user`.
        public var type: String
        /// `iat`, seconds since 1970.
        public var issuedAt: Int64
        /// `nats.issuer_account`, for users signed by an account signing key.
        public var issuerAccount: String?
    }

    /// An operator JWT, self-signed by `operatorKey`. `systemAccount` names the system account
    /// (`nats.system_account`).
    public static func operatorJWT(
        name: String, operatorKey: NKeyPair, systemAccount: String? = nil, issuedAt: Date = Date()
    ) throws -> String {
        try requireType(operatorKey, .operator, role: "operator key")
        let nats = OperatorFields(systemAccount: systemAccount)
        return try mint(name: name, subject: operatorKey.publicKey, nats: nats, issuer: operatorKey, issuedAt: issuedAt)
    }

    /// An account JWT for `accountPublicKey`, signed by the operator. With `jetStream` the account
    /// gets unlimited JetStream memory and file storage (a system account must not have JetStream).
    public static func accountJWT(
        name: String, accountPublicKey: String, operatorKey: NKeyPair, jetStream: Bool = true,
        issuedAt: Date = Date()
    ) throws -> String {
        try requireType(operatorKey, .operator, role: "account issuer")
        try requirePublicKeyType(accountPublicKey, .account)
        let nats = AccountFields(limits: AccountLimits(jetStream: jetStream))
        return try mint(name: name, subject: accountPublicKey, nats: nats, issuer: operatorKey, issuedAt: issuedAt)
    }

    /// A user JWT for `userPublicKey`, signed by `accountKey` (the account itself, or one of its
    /// signing keys — then pass the account's public key as `issuerAccount`).
    public static func userJWT(
        name: String, userPublicKey: String, accountKey: NKeyPair, issuerAccount: String? = nil,
        issuedAt: Date = Date()
    ) throws -> String {
        try requireType(accountKey, .account, role: "user issuer")
        try requirePublicKeyType(userPublicKey, .user)
        let nats = UserFields(issuerAccount: issuerAccount)
        return try mint(name: name, subject: userPublicKey, nats: nats, issuer: accountKey, issuedAt: issuedAt)
    }

    /// Decodes a JWT's claims; with `verifySignature`, also checks the header algorithm and the
    /// Ed25519 signature against the issuer's public key.
    public static func decode(_ jwt: String, verifySignature: Bool = true) throws -> Claims {
        let parts = jwt.trimmingASCIIWhitespace().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw NATSAuthError(.malformedJWT, "a JWT has 3 dot-separated parts, this one \(parts.count)")
        }
        guard let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else {
            throw NATSAuthError(.malformedJWT, "a JWT part is not base64url without padding")
        }
        let header: Header
        let body: DecodedBody
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
            body = try JSONDecoder().decode(DecodedBody.self, from: Data(claimBytes))
        } catch {
            throw NATSAuthError(.malformedJWT, "the JWT header or claims are not the expected JSON")
        }
        let claims = Claims(
            issuer: body.iss, subject: body.sub, name: body.name ?? "", type: body.nats?.type ?? "",
            issuedAt: body.iat ?? 0, issuerAccount: body.nats?.issuerAccount)
        if verifySignature {
            guard header.alg == algorithm else {
                throw NATSAuthError(.malformedJWT, "the JWT algorithm is not \(algorithm)")
            }
            let signed = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
            guard NKeyPair.verify(signature: signature, data: signed, publicKey: claims.issuer) else {
                throw NATSAuthError(
                    .malformedJWT, "the JWT signature does not verify against its issuer \(claims.issuer)")
            }
        }
        return claims
    }

    static let algorithm = "ed25519-nkey"

    private static func mint(
        name: String, subject: String, nats: some Encodable, issuer: NKeyPair, issuedAt: Date
    ) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var body = MintedBody(
            jti: "", iat: Int64(issuedAt.timeIntervalSince1970), iss: issuer.publicKey, name: name, sub: subject,
            nats: nats)
        do {
            let unidentified = try encoder.encode(body)
            body.jti = Base32.encode(Array(SHA256.hash(data: unidentified)))
            let header = try encoder.encode(Header(typ: "JWT", alg: algorithm))
            let signingInput = Base64URL.encode(Array(header)) + "." + Base64URL.encode(Array(try encoder.encode(body)))
            let signature = try issuer.sign(Array(signingInput.utf8))
            return signingInput + "." + Base64URL.encode(signature)
        } catch let error as NATSAuthError {
            throw error
        } catch {
            throw NATSAuthError(.malformedJWT, "the JWT claims could not be encoded", underlying: error)
        }
    }

    private static func requireType(_ key: NKeyPair, _ type: NKeyType, role: String) throws {
        guard key.type == type else {
            throw NATSAuthError(.unexpectedKeyType, "the \(role) must be an \(type) key, not a \(key.type) key")
        }
    }

    private static func requirePublicKeyType(_ publicKey: String, _ type: NKeyType) throws {
        let decoded = try NKeyPair.decodePublicKey(publicKey)
        guard decoded.type == type else {
            throw NATSAuthError(
                .unexpectedKeyType, "the subject must be a \(type) public key, not a \(decoded.type) key")
        }
    }
}

private struct Header: Codable {
    var typ: String?
    var alg: String
}

private struct MintedBody<Nats: Encodable>: Encodable {
    var jti: String
    var iat: Int64
    var iss: String
    var name: String
    var sub: String
    var nats: Nats
}

private struct DecodedBody: Decodable {
    struct Nats: Decodable {
        var type: String?
        var issuerAccount: String?

        enum CodingKeys: String, CodingKey {
            case type
            case issuerAccount = "issuer_account"
        }
    }

    var iat: Int64?
    var iss: String
    var name: String?
    var sub: String
    var nats: Nats?
}

private struct OperatorFields: Encodable {
    var systemAccount: String?
    var type = "operator"
    var version = 2

    enum CodingKeys: String, CodingKey {
        case systemAccount = "system_account"
        case type
        case version
    }
}

/// Account limits: everything unlimited (-1); JetStream storage unlimited or, when disabled, absent.
private struct AccountLimits: Encodable {
    var subs = -1
    var data = -1
    var payload = -1
    var imports = -1
    var exports = -1
    var wildcards = true
    var conn = -1
    var leaf = -1
    var memoryStorage: Int?
    var diskStorage: Int?
    var streams: Int?
    var consumer: Int?

    init(jetStream: Bool) {
        if jetStream {
            memoryStorage = -1
            diskStorage = -1
            streams = -1
            consumer = -1
        }
    }

    enum CodingKeys: String, CodingKey {
        case subs, data, payload, imports, exports, wildcards, conn, leaf, streams, consumer
        case memoryStorage = "mem_storage"
        case diskStorage = "disk_storage"
    }
}

private struct Permissions: Encodable {
    struct Subjects: Encodable {}
    var pub = Subjects()
    var sub = Subjects()
}

private struct AccountFields: Encodable {
    var limits: AccountLimits
    var defaultPermissions = Permissions()
    var type = "account"
    var version = 2

    enum CodingKeys: String, CodingKey {
        case limits
        case defaultPermissions = "default_permissions"
        case type
        case version
    }
}

private struct UserFields: Encodable {
    var issuerAccount: String?
    var pub = Permissions.Subjects()
    var sub = Permissions.Subjects()
    var subs = -1
    var data = -1
    var payload = -1
    var type = "user"
    var version = 2

    enum CodingKeys: String, CodingKey {
        case issuerAccount = "issuer_account"
        case pub, sub, subs, data, payload, type, version
    }
}
