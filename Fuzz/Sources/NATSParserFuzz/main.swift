import FuzzSupport
import NATSClient

/// Small enough to exercise the size bound, large enough for every corpus frame.
let maxPayloadSize = 64 * 1024

/// What a parser made of a byte stream: the operations in order, then how it stopped.
struct Outcome: Equatable {
    var operations: [NATSServerOp] = []
    /// The error code that stopped parsing, or `nil` when it stopped for want of bytes.
    var failure: NATSError.Code?
}

/// Takes every complete operation; returns false once the parser has failed (it is then done).
func drain(_ parser: inout NATSProtocolParser, into outcome: inout Outcome) -> Bool {
    while true {
        do {
            guard let operation = try parser.next() else { return true }
            check(operation)
            outcome.operations.append(operation)
        } catch let error as NATSError {
            outcome.failure = error.code
            return false
        } catch {
            fatalError("parser threw a non-NATSError: \(error)")
        }
    }
}

/// Invariants every parsed operation holds, whatever the input.
func check(_ operation: NATSServerOp) {
    guard case .message(_, let message) = operation else { return }
    if message.payload.readableBytes > maxPayloadSize {
        fatalError("message payload of \(message.payload.readableBytes) bytes exceeds the \(maxPayloadSize) bound")
    }
    if message.subject.isEmpty {
        fatalError("message with an empty subject")
    }
}

/// Parses `chunks` fed one after another, draining operations after each.
func parse(_ chunks: [ArraySlice<UInt8>]) -> Outcome {
    var parser = NATSProtocolParser(maxPayloadSize: maxPayloadSize)
    var outcome = Outcome()
    for chunk in chunks {
        parser.feed(chunk)
        if !drain(&parser, into: &outcome) { break }
    }
    return outcome
}

/// The parser's result must not depend on how the bytes were cut into reads.
func runOne(_ bytes: [UInt8]) {
    let whole = parse([bytes[...]])

    // Two pieces, cut at a point derived from the input so libFuzzer can steer it.
    let cut = bytes.isEmpty ? 0 : (Int(bytes[bytes.count - 1]) * 7919) % (bytes.count + 1)
    let halves = parse([bytes[..<cut], bytes[cut...]])
    if halves != whole {
        fatalError("cut at \(cut) gave \(halves), in one piece \(whole)")
    }

    // One byte at a time (bounded, it is quadratic).
    if bytes.count <= 2048 {
        let single = parse(bytes.indices.map { bytes[$0...$0] })
        if single != whole {
            fatalError("byte-by-byte gave \(single), in one piece \(whole)")
        }
    }
}

runLibFuzzer { data, size in
    runOne(fuzzInput(data, size))
    return 0
}
