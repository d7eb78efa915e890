/// A NATS user identity for JWT (decentralized, operator-mode) authentication: the user JWT and
/// the user's NKey, usually read from a `.creds` file.
///
/// A `.creds` file holds two decorated blocks:
/// ```
/// -----BEGIN NATS USER JWT-----
/// eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ...
/// ------END NATS USER JWT------
/// -----BEGIN USER NKEY SEED-----
/// SUAM...
/// ------END USER NKEY SEED------
/// ```
/// Parsing tolerates CRLF, surrounding whitespace, text between blocks and marker lines with any
/// number (≥ 3) of dashes; it refuses a missing, empty, duplicated or unterminated block, a seed
/// that is not a user seed, and a seed that does not belong to the JWT's subject.
public struct NATSCredentials: Sendable, CustomStringConvertible {
    /// The user JWT, sent in CONNECT's `jwt` field.
    public let jwt: String
    /// The user's key pair; signs the server's nonce.
    public let keyPair: NKeyPair

    /// Pairs a JWT with the user's key pair, unchecked.
    public init(jwt: String, keyPair: NKeyPair) {
        self.jwt = jwt
        self.keyPair = keyPair
    }

    /// Reads and parses a `.creds` file, refusing it when group or others can read or write it.
    ///
    /// - Throws: `NATSAuthError` (`insecurePermissions`, `fileUnreadable`, `malformedCredentials`,
    ///   `credentialsMismatch`, or a seed decoding code), with `path` set; never containing secrets.
    public static func load(credentialsFile path: String) throws -> NATSCredentials {
        let bytes = try SecretFile.read(path: path)
        do {
            return try parse(String(decoding: bytes, as: UTF8.self))
        } catch var error as NATSAuthError {
            error.path = path
            throw error
        }
    }

    /// Reads an NKey seed file (just the seed, or a file with a decorated seed block), refusing it
    /// when group or others can read or write it.
    ///
    /// - Parameter expectedType: the key type the caller needs (`.user` for client authentication);
    ///   `nil` accepts any type.
    public static func loadSeed(file path: String, expectedType: NKeyType? = .user) throws -> NKeyPair {
        let bytes = try SecretFile.read(path: path)
        do {
            let text = String(decoding: bytes, as: UTF8.self)
            let blocks = try DecoratedBlocks(text)
            let seedText = try blocks.body(named: "SEED", required: false) ?? String(text.trimmingASCIIWhitespace())
            let keyPair = try NKeyPair(seed: seedText)
            if let expectedType, keyPair.type != expectedType {
                throw NATSAuthError(
                    .unexpectedKeyType,
                    "the seed is a\(article(keyPair.type)) \(keyPair.type) seed, expected \(expectedType)")
            }
            return keyPair
        } catch var error as NATSAuthError {
            error.path = path
            throw error
        }
    }

    /// Parses the text of a `.creds` file.
    public static func parse(_ text: String) throws -> NATSCredentials {
        let blocks = try DecoratedBlocks(text)
        guard let jwt = try blocks.body(named: "JWT", required: true) else {
            throw NATSAuthError(.malformedCredentials, "the credentials have no JWT block")
        }
        guard let seed = try blocks.body(named: "SEED", required: true) else {
            throw NATSAuthError(.malformedCredentials, "the credentials have no NKEY SEED block")
        }
        let keyPair = try NKeyPair(seed: seed)
        guard keyPair.type == .user else {
            throw NATSAuthError(
                .unexpectedKeyType,
                "the credentials hold a\(article(keyPair.type)) \(keyPair.type) seed, expected a user seed")
        }
        let claims: NATSJWT.Claims
        do {
            claims = try NATSJWT.decode(jwt, verifySignature: false)
        } catch var error as NATSAuthError {
            error.code = .malformedCredentials
            error.message = "the credentials' JWT block is not a JWT: " + error.message
            throw error
        }
        guard claims.subject == keyPair.publicKey else {
            throw NATSAuthError(
                .credentialsMismatch,
                "the seed's public key \(keyPair.publicKey) is not the JWT subject \(claims.subject)")
        }
        return NATSCredentials(jwt: jwt, keyPair: keyPair)
    }

    /// The decorated `.creds` text for a user JWT and seed, as `nsc` writes it.
    public static func format(jwt: String, seed: String) -> String {
        """
        -----BEGIN NATS USER JWT-----
        \(jwt)
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        \(seed)
        ------END USER NKEY SEED------

        *************************************************************

        """
    }

    public var description: String {
        "NATSCredentials(user: \(keyPair.publicKey))"
    }

    private static func article(_ type: NKeyType) -> String {
        switch type {
        case .account, .operator: "n"
        case .user, .server, .cluster: ""
        }
    }
}

/// The `-----BEGIN X-----` … `-----END X-----` blocks of a decorated text.
private struct DecoratedBlocks {
    private var blocks: [(name: String, body: String)] = []

    init(_ text: String) throws {
        var current: (name: String, lines: [Substring])?
        // `isNewline` also matches "\r\n", which Swift treats as one Character.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = rawLine.trimmingASCIIWhitespace()
            if let marker = Self.marker(line) {
                if marker.hasPrefix("BEGIN ") {
                    if let open = current {
                        throw NATSAuthError(.malformedCredentials, "the \(Self.label(open.name)) is not terminated")
                    }
                    current = (String(marker.dropFirst("BEGIN ".count)), [])
                } else if marker.hasPrefix("END ") {
                    guard let open = current else {
                        throw NATSAuthError(.malformedCredentials, "an END marker has no matching BEGIN")
                    }
                    blocks.append((open.name, open.lines.joined()))
                    current = nil
                }
            } else if !line.isEmpty, current != nil {
                current?.lines.append(line)
            }
        }
        if let open = current {
            throw NATSAuthError(.malformedCredentials, "the \(Self.label(open.name)) is not terminated")
        }
    }

    /// The body of the single block whose name contains `keyword`.
    func body(named keyword: String, required: Bool) throws -> String? {
        let matches = blocks.filter { $0.name.contains(keyword) }
        guard matches.count <= 1 else {
            throw NATSAuthError(.malformedCredentials, "the text has \(matches.count) \(keyword) blocks, expected one")
        }
        guard let match = matches.first else {
            if required {
                throw NATSAuthError(.malformedCredentials, "the text has no \(keyword) block")
            }
            return nil
        }
        guard !match.body.isEmpty else {
            throw NATSAuthError(.malformedCredentials, "the \(Self.label(match.name)) is empty")
        }
        return match.body
    }

    /// A fixed label for a block in error messages: marker text is never echoed, so a malformed
    /// file cannot smuggle its content (a seed) into an error description.
    private static func label(_ name: String) -> String {
        if name.contains("JWT") { return "JWT block" }
        if name.contains("SEED") { return "NKEY SEED block" }
        return "decorated block"
    }

    /// The marker text of a line like `-----BEGIN NATS USER JWT-----`, or `nil`.
    private static func marker(_ line: Substring) -> Substring? {
        guard line.hasPrefix("---"), line.hasSuffix("---") else { return nil }
        let inner = line.drop(while: { $0 == "-" }).reversed().drop(while: { $0 == "-" }).reversed()
        let text = String(inner).trimmingASCIIWhitespace()
        guard text.hasPrefix("BEGIN ") || text.hasPrefix("END ") else { return nil }
        return text
    }
}
