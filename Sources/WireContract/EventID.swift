import Crypto

/// Deterministic event ids, derived only from the database's own data for a transition.
///
/// Format: `evt_{agent}_{transitionTime}_{hash}` where `{agent}` is the zero-padded agent id (``Subjects/agentToken(_:)``),
/// `{transitionTime}` the decimal transition time and `{hash}` the first 16 lowercase hex digits of
/// SHA-256 over this byte string:
///
/// ```
/// "wazuh-nats-gateway/event-id/v1"   (as a length-prefixed string)
/// agentID        8 bytes, big-endian two's complement
/// kind           4-byte big-endian length, UTF-8
/// previous       4-byte big-endian length, UTF-8
/// current        4-byte big-endian length, UTF-8
/// dateAdd        8 bytes, big-endian two's complement
/// transitionTime 8 bytes, big-endian two's complement
/// ```
///
/// Length prefixes make the encoding unambiguous (`"ab","c"` and `"a","bc"` differ). `dateAdd` (the
/// agent's registration time) tells apart two agents that reused the same id after a removal.
public enum EventID {
    public static func make(
        agentID: Int, kind: String, previous: String, current: String, dateAdd: Int64, transitionTime: Int64
    ) -> String {
        var hasher = SHA256()
        LengthPrefixed.feed("wazuh-nats-gateway/event-id/v1", into: &hasher)
        LengthPrefixed.feed(Int64(agentID), into: &hasher)
        LengthPrefixed.feed(kind, into: &hasher)
        LengthPrefixed.feed(previous, into: &hasher)
        LengthPrefixed.feed(current, into: &hasher)
        LengthPrefixed.feed(dateAdd, into: &hasher)
        LengthPrefixed.feed(transitionTime, into: &hasher)
        let hash = LengthPrefixed.hexPrefix(of: hasher.finalize(), characters: 16)
        return "evt_\(Subjects.agentToken(agentID))_\(transitionTime)_\(hash)"
    }
}

/// The length-prefixed hash input encoding shared by event and batch ids.
enum LengthPrefixed {
    static func feed(_ text: String, into hasher: inout SHA256) {
        let bytes = Array(text.utf8)
        let length = UInt32(truncatingIfNeeded: bytes.count).bigEndian
        withUnsafeBytes(of: length) { hasher.update(bufferPointer: $0) }
        hasher.update(data: bytes)
    }

    static func feed(_ number: Int64, into hasher: inout SHA256) {
        withUnsafeBytes(of: number.bigEndian) { hasher.update(bufferPointer: $0) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func hexPrefix(of digest: SHA256.Digest, characters: Int) -> String {
        var output = [UInt8]()
        for byte in digest.prefix((characters + 1) / 2) {
            output.append(self.hexDigits[Int(byte >> 4)])
            output.append(self.hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: output.prefix(characters), as: UTF8.self)
    }
}
