/// One reply of wazuh-db: `ok <json>`, `due <json>` (more rows follow: ask again from the last
/// id) or `err <text>`.
///
/// Pure: ``parse(_:)`` takes a frame's payload; anything else is a clear `.malformedReply`.
public enum WazuhDBReply: Sendable, Hashable {
    /// The request succeeded; the JSON text (possibly empty).
    case ok([UInt8])
    /// A partial answer; the JSON text of this part.
    case due([UInt8])
    /// wazuh-db refused or failed the request; its text (never agent data: it echoes errors).
    case err(String)

    /// Parses one reply payload.
    /// - Throws: ``WazuhSourceError`` `.malformedReply` naming what is wrong.
    public static func parse(_ payload: some Collection<UInt8>) throws(WazuhSourceError) -> WazuhDBReply {
        let bytes = Array(payload)
        func rest(after count: Int) -> [UInt8] {
            // `ok` alone (no space) is a valid empty answer.
            guard bytes.count > count else { return [] }
            return Array(bytes[(count + 1)...])
        }
        if hasWord(bytes, "ok") { return .ok(rest(after: 2)) }
        if hasWord(bytes, "due") { return .due(rest(after: 3)) }
        if hasWord(bytes, "err") {
            let text = String(decoding: rest(after: 3).prefix(512), as: UTF8.self)
            return .err(text)
        }
        let shown = String(decoding: bytes.prefix(16), as: UTF8.self).unicodeScalars
            .map { $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "?" }.joined()
        throw WazuhSourceError(
            code: .malformedReply, path: nil,
            message: "wazuh-db replied neither ok, due nor err (\(bytes.count) bytes starting \"\(shown)\")")
    }

    /// `bytes` starts with `word` followed by a space or the end.
    private static func hasWord(_ bytes: [UInt8], _ word: String) -> Bool {
        let prefix = Array(word.utf8)
        let count = prefix.count
        guard bytes.count >= count else { return false }
        for index in 0..<count where bytes[index] != prefix[index] { return false }
        return bytes.count == count || bytes[count] == UInt8(ascii: " ")
    }
}
