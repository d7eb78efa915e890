import FuzzSupport
import WazuhSource

/// What the framing and the reply parser made of a byte stream, in order.
struct Outcome: Equatable {
    var replies: [String] = []
    var failed = false
}

/// Decodes frames from `chunks`; parses each payload as a reply and its JSON as agent rows and ids.
func decode(_ chunks: [ArraySlice<UInt8>]) -> Outcome {
    var decoder = WazuhDBFrame.Decoder()
    var outcome = Outcome()
    for chunk in chunks {
        decoder.feed(chunk)
        while true {
            let payload: [UInt8]
            do {
                guard let next = try decoder.next() else { break }
                payload = next
            } catch {
                guard error.code == .malformedReply else { fatalError("framing threw \(error.code)") }
                outcome.failed = true
                return outcome
            }
            if payload.count > WazuhDBFrame.maximumPayload {
                fatalError("a payload of \(payload.count) bytes passed the \(WazuhDBFrame.maximumPayload)-byte bound")
            }
            outcome.replies.append(describe(payload))
        }
    }
    return outcome
}

/// One payload, parsed as deep as the reader goes; every failure must be a clear source error.
func describe(_ payload: [UInt8]) -> String {
    let reply: WazuhDBReply
    do {
        reply = try WazuhDBReply.parse(payload)
    } catch {
        guard error.code == .malformedReply else { fatalError("reply parser threw \(error.code)") }
        return "malformed"
    }
    switch reply {
    case .err(let text):
        if text.utf8.count > 512 * 3 { fatalError("err text of \(text.utf8.count) bytes kept") }
        return "err"
    case .ok(let json), .due(let json):
        var parts: [String] = []
        do {
            let agents = try WazuhDBRows.agents(json)
            for agent in agents where agent.name.isEmpty && agent.id == Int.min { parts.append("odd") }
            parts.append("agents \(agents.count)")
        } catch {
            guard error.code == .malformedReply else { fatalError("row decoder threw \(error.code)") }
            parts.append("no agents")
        }
        if let ids = try? WazuhDBRows.ids(json) { parts.append("ids \(ids.count)") }
        return parts.joined(separator: ",")
    }
}

/// The result must not depend on how the bytes were cut into reads.
func runOne(_ bytes: [UInt8]) {
    let whole = decode([bytes[...]])
    let cut = bytes.isEmpty ? 0 : (Int(bytes[bytes.count - 1]) * 7919) % (bytes.count + 1)
    let halves = decode([bytes[..<cut], bytes[cut...]])
    if halves != whole { fatalError("cut at \(cut) gave \(halves), in one piece \(whole)") }
    if bytes.count <= 1024 {
        let single = decode(bytes.indices.map { bytes[$0...$0] })
        if single != whole { fatalError("byte-by-byte gave \(single), in one piece \(whole)") }
    }
    // A payload framed by the encoder comes back unchanged.
    if bytes.count <= WazuhDBFrame.maximumPayload, let frame = try? WazuhDBFrame.encode(bytes) {
        var decoder = WazuhDBFrame.Decoder()
        decoder.feed(frame)
        guard let back = try? decoder.next(), back == bytes else { fatalError("encode/decode changed a payload") }
    }
}

runLibFuzzer { data, size in
    runOne(fuzzInput(data, size))
    return 0
}
