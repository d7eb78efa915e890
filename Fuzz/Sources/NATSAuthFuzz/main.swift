import FuzzSupport
import NATSClient

/// The text without surrounding spaces, tabs, CR and LF (what the decoders ignore).
func trimmed(_ text: String) -> Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    guard let start = text.firstIndex(where: { !isSpace($0) }), let end = text.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return text[start...end]
}

/// Error descriptions must never echo seed-like input lines.
func checkNoSecretEcho(_ error: any Error, input: String) {
    let description = String(describing: error) + String(reflecting: error)
    for line in input.split(whereSeparator: \.isNewline) {
        let candidate = trimmed(String(line))
        if candidate.count >= 16, candidate.hasPrefix("S"), description.contains(candidate) {
            fatalError("error description echoes input line \(candidate.prefix(4))…: \(description)")
        }
    }
}

func runOne(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)

    // Seeds: decoding is canonical, so a decoded seed re-encodes to exactly the input.
    do {
        let keyPair = try NKeyPair(seed: text)
        if keyPair.seed != trimmed(text) {
            fatalError("seed decoded but re-encodes differently")
        }
        let again = try NKeyPair(seed: keyPair.seed)
        if again.publicKey != keyPair.publicKey || again.type != keyPair.type {
            fatalError("seed round trip changed the key")
        }
        let signature = try keyPair.sign(bytes)
        if !NKeyPair.verify(signature: signature, data: bytes, publicKey: keyPair.publicKey) {
            fatalError("own signature does not verify")
        }
    } catch let error as NATSAuthError {
        checkNoSecretEcho(error, input: text)
    } catch {
        fatalError("NKeyPair(seed:) threw a non-NATSAuthError: \(error)")
    }

    // Public keys.
    do {
        let decoded = try NKeyPair.decodePublicKey(text)
        if decoded.key.count != 32 {
            fatalError("public key of \(decoded.key.count) bytes")
        }
    } catch is NATSAuthError {
    } catch {
        fatalError("decodePublicKey threw a non-NATSAuthError: \(error)")
    }

    // `.creds` text: what parses re-formats and parses to the same identity.
    do {
        let credentials = try NATSCredentials.parse(text)
        let again = try NATSCredentials.parse(
            NATSCredentials.format(jwt: credentials.jwt, seed: credentials.keyPair.seed))
        if again.jwt != credentials.jwt || again.keyPair.publicKey != credentials.keyPair.publicKey {
            fatalError("credentials round trip changed the identity")
        }
    } catch let error as NATSAuthError {
        checkNoSecretEcho(error, input: text)
    } catch {
        fatalError("NATSCredentials.parse threw a non-NATSAuthError: \(error)")
    }

    // JWTs: a verified JWT's claims decode the same without verification.
    do {
        let claims = try NATSJWT.decode(text)
        if try NATSJWT.decode(text, verifySignature: false) != claims {
            fatalError("verified and unverified decoding disagree")
        }
    } catch is NATSAuthError {
    } catch {
        fatalError("NATSJWT.decode threw a non-NATSAuthError: \(error)")
    }
}

runLibFuzzer { data, size in
    runOne(fuzzInput(data, size))
    return 0
}
