import FuzzSupport
import WireContract

// Consumers run the parser and the opener on bytes from the network: whatever arrives must end in a
// value or a typed error, never a crash, a hang or unbounded memory.
let defaultParser = JSONParser()
let tightParser = JSONParser(maximumBytes: 4096, maximumDepth: 8)
let subjects = try! Subjects(prefix: "wazuh")
let signingKey = try! SigningKey(bytes: Array(repeating: 0x5A, count: 32))
let encryptionKey = try! EncryptionKey(bytes: Array(repeating: 0xA5, count: 32))
let opener = MessageOpener(
    subjects: subjects, signingKey: signingKey, encryptionKey: encryptionKey,
    maximumDecompressedBytes: 1 << 20)

/// What parses serializes canonically, and the canonical text parses back to the same canonical text
/// (a double may come back as an integer, so the texts are compared, not the values).
func checkCanonicalRoundTrip(_ value: JSONValue) {
    guard let canonical = try? CanonicalJSON.serialize(value) else {
        fatalError("a parsed value has no canonical form")
    }
    let reparsed: JSONValue
    do {
        reparsed = try defaultParser.parse(canonical)
    } catch {
        fatalError("canonical JSON does not parse: \(error)")
    }
    guard let again = try? CanonicalJSON.serialize(reparsed), again == canonical else {
        fatalError("canonical JSON is not stable across a round trip")
    }
}

func runOne(_ bytes: [UInt8]) {
    if let value = try? defaultParser.parse(bytes) {
        checkCanonicalRoundTrip(value)
    }
    // Tighter limits refuse more, and never accept what the default parser refuses.
    if let value = try? tightParser.parse(bytes) {
        if (try? defaultParser.parse(bytes)) != value {
            fatalError("the tight parser accepted what the default parser read differently")
        }
    }
    // The whole consumer path: plain, compressed, encrypted and both, on an event subject and a batch one.
    let headerSets: [[(String, String)]] = [
        [],
        [("Content-Encoding", "lz4")],
        [("Wazuh-Encryption", "aes-256-gcm")],
        [("Wazuh-Encryption", "aes-256-gcm"), ("Content-Encoding", "lz4")],
    ]
    for subject in ["wazuh.agent.001.status", "wazuh.security.agent_events"] {
        for headers in headerSets {
            _ = try? opener.open(subject: subject, headers: headers, payload: bytes)
        }
    }
}

runLibFuzzer { data, size in
    runOne(fuzzInput(data, size))
    return 0
}
