import Foundation

/// The JSON body of the `CONNECT` command, with the authentication fields for the chosen ``NATSAuth``.
///
/// Credentials in the server URL (`nats://user:pass@host`, or `nats://token@host`) take precedence over
/// ``NATSConnectionOptions/auth``. The value is only ever written to the socket, never logged.
struct ConnectPayload: Encodable {
    static let clientVersion = "0.1.0"

    var verbose = false
    var pedantic = false
    var tlsRequired: Bool
    var name: String?
    var lang = "swift"
    var version = ConnectPayload.clientVersion
    var `protocol` = 1
    var headers = true
    var noResponders = true
    var echo = true
    var user: String?
    var pass: String?
    var authToken: String?
    var nkey: String?
    var sig: String?
    var jwt: String?

    enum CodingKeys: String, CodingKey {
        case verbose
        case pedantic
        case tlsRequired = "tls_required"
        case name
        case lang
        case version
        case `protocol`
        case headers
        case noResponders = "no_responders"
        case echo
        case user
        case pass
        case authToken = "auth_token"
        case nkey
        case sig
        case jwt
    }

    static func make(options: NATSConnectionOptions, info: NATSServerInfo, address: NATSServerAddress) throws -> String
    {
        var payload = ConnectPayload(tlsRequired: address.tls || options.tls != nil || (info.tlsRequired ?? false))
        payload.name = options.name
        if let user = address.user {
            if let password = address.password {
                payload.user = user
                payload.pass = password
            } else {
                payload.authToken = user
            }
        } else {
            try payload.apply(options.auth, nonce: info.nonce)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(payload)
        return String(decoding: data, as: UTF8.self)
    }

    private mutating func apply(_ auth: NATSAuth, nonce: String?) throws {
        switch auth {
        case .none:
            break
        case .userPassword(let user, let password):
            self.user = user
            self.pass = password
        case .token(let token):
            self.authToken = token
        case .nkeySeedFile(let path):
            let keyPair = try Self.wrap { try NATSCredentials.loadSeed(file: path) }
            try self.sign(with: keyPair, nonce: nonce)
            self.nkey = keyPair.publicKey
        case .nkey(let keyPair):
            try self.sign(with: keyPair, nonce: nonce)
            self.nkey = keyPair.publicKey
        case .credentialsFile(let path):
            let credentials = try Self.wrap { try NATSCredentials.load(credentialsFile: path) }
            try self.sign(with: credentials.keyPair, nonce: nonce)
            self.jwt = credentials.jwt
        case .credentials(let credentials):
            try self.sign(with: credentials.keyPair, nonce: nonce)
            self.jwt = credentials.jwt
        }
    }

    private mutating func sign(with keyPair: NKeyPair, nonce: String?) throws {
        guard let nonce else {
            throw NATSError(.authenticationSetup, "server sent no nonce to sign; it does not expect key authentication")
        }
        self.sig = try Self.wrap { try keyPair.signNonce(nonce) }
    }

    private static func wrap<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw NATSError(.authenticationSetup, "cannot use the configured key material: \(error)", underlying: error)
        }
    }
}
