import Foundation
import NATSClient
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Publish benchmark for our NATS client, the counterpart of c/js_bench.c (same workload, same output line).
//
//   NATSPublishBench URL js|js-lazy|js-batch|js-inbox|core MESSAGES RUN_ID [WINDOW]
//
// js:   acknowledged JetStream publishes, pipelined with WINDOW (default 256) outstanding, each 400-byte
//       message with its own Nats-Msg-Id, to stream BENCH (file storage, recreated first); every ack is
//       awaited in publish order; timed until the last ack, then the stream's message count is checked.
// js-lazy: the same, but acks are only awaited after the last publish (the window alone bounds what is in flight).
// js-batch: `publishBatch` of WINDOW/2 messages at a time with WINDOW outstanding; the acks of one batch are
//       awaited with `PendingAck.results` after the next batch went out.
// js-inbox: the gateway delivery transport's pattern: core `publish(subject:replyTo:headers:payload:)` to a reply
//       subject on a wildcard inbox subscription, the PubAck replies read from that subscription in order, at most
//       WINDOW outstanding.
// core: plain publishes of 400-byte messages, timed until a flush (PING/PONG) returns.

/// A benchmark run that could not complete.
struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

let arguments = CommandLine.arguments
guard arguments.count >= 5, let messages = Int(arguments[3]) else {
    printError("usage: NATSPublishBench URL js|js-lazy|js-batch|js-inbox|core MESSAGES RUN_ID [WINDOW]")
    exit(2)
}
let url = arguments[1]
let mode = arguments[2]
let runID = arguments[4]
let window = arguments.count > 5 ? Int(arguments[5]) ?? 256 : 256
let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: 400)

func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

func runCore(_ connection: NATSConnection) async throws -> Duration {
    let clock = ContinuousClock()
    return try await clock.measure {
        for _ in 0..<messages {
            try await connection.publish(subject: "bench.core", payload: payload)
        }
        try await connection.flush(timeout: .seconds(60))
    }
}

/// Deletes and recreates stream BENCH so every run starts empty.
func recreateStream(_ jetStream: JetStreamContext) async throws {
    do {
        try await jetStream.deleteStream(name: "BENCH")
    } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
        // First run on this server: nothing to delete.
    }
    _ = try await jetStream.createStream(StreamConfig(name: "BENCH", subjects: ["bench.js"], storage: .file))
}

/// Checks that the stream holds exactly MESSAGES messages.
func checkStored(_ jetStream: JetStreamContext) async throws {
    let stored = try await jetStream.streamInfo(name: "BENCH").state.messages
    guard stored == UInt64(messages) else {
        throw BenchmarkFailure(description: "stream holds \(stored) messages, expected \(messages)")
    }
}

func runJetStreamBatch(_ connection: NATSConnection) async throws -> Duration {
    let jetStream = connection.jetStream(timeout: .seconds(30), maxPending: window)
    try await recreateStream(jetStream)
    let batchSize = max(1, window / 2)
    let clock = ContinuousClock()
    let elapsed = try await clock.measure {
        var previous: [PendingAck] = []
        var start = 0
        while start < messages {
            let end = min(messages, start + batchSize)
            let batch = (start..<end).map {
                JetStreamOutgoingMessage(subject: "bench.js", payload: payload, messageID: "\(runID)-\($0)")
            }
            let acks = try await jetStream.publishBatch(batch)
            for result in await PendingAck.results(previous) {
                _ = try result.get()
            }
            previous = acks
            start = end
        }
        for result in await PendingAck.results(previous) {
            _ = try result.get()
        }
    }
    try await checkStored(jetStream)
    return elapsed
}

func runJetStreamInbox(_ connection: NATSConnection) async throws -> Duration {
    let jetStream = connection.jetStream(timeout: .seconds(30))
    try await recreateStream(jetStream)
    let inbox = "_INBOX.bench\(runID)"
    let subscription = try await connection.subscribe(subject: inbox + ".*")
    var replies = subscription.makeAsyncIterator()
    func awaitReply() async throws {
        guard let reply = await replies.next() else {
            throw BenchmarkFailure(description: "reply subscription ended")
        }
        guard reply.payload.readableBytesView.starts(with: Array("{\"stream\":\"BENCH\"".utf8)) else {
            throw BenchmarkFailure(description: "unexpected reply \(String(buffer: reply.payload))")
        }
    }
    let clock = ContinuousClock()
    let elapsed = try await clock.measure {
        var outstanding = 0
        for index in 0..<messages {
            if outstanding >= window {
                try await awaitReply()
                outstanding -= 1
            }
            try await connection.publish(
                subject: "bench.js", replyTo: "\(inbox).\(index)", headers: ["Nats-Msg-Id": "\(runID)-\(index)"],
                payload: payload)
            outstanding += 1
        }
        while outstanding > 0 {
            try await awaitReply()
            outstanding -= 1
        }
    }
    try await checkStored(jetStream)
    return elapsed
}

/// With `awaitEachAck`, the oldest ack is awaited whenever WINDOW are outstanding (the gateway's pattern);
/// without, flow control is left to the window alone and all acks are awaited at the end (`js-lazy`).
func runJetStream(_ connection: NATSConnection, awaitEachAck: Bool) async throws -> Duration {
    let jetStream = connection.jetStream(timeout: .seconds(30), maxPending: window)
    do {
        try await jetStream.deleteStream(name: "BENCH")
    } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
        // First run on this server: nothing to delete.
    }
    _ = try await jetStream.createStream(StreamConfig(name: "BENCH", subjects: ["bench.js"], storage: .file))

    let clock = ContinuousClock()
    let elapsed = try await clock.measure {
        var pending: [PendingAck] = []
        pending.reserveCapacity(window + 1)
        var oldest = 0
        for index in 0..<messages {
            pending.append(
                try await jetStream.publishPipelined(
                    subject: "bench.js", payload: payload, messageID: "\(runID)-\(index)"))
            if awaitEachAck, pending.count - oldest > window {
                _ = try await pending[oldest].result()
                oldest += 1
                if oldest > 4096 {
                    pending.removeFirst(oldest)
                    oldest = 0
                }
            }
        }
        for ack in pending[oldest...] {
            _ = try await ack.result()
        }
    }
    let stored = try await jetStream.streamInfo(name: "BENCH").state.messages
    guard stored == UInt64(messages) else {
        throw BenchmarkFailure(description: "stream holds \(stored) messages, expected \(messages)")
    }
    return elapsed
}

do {
    let connection = try await NATSConnection.connect(options: NATSConnectionOptions(url: url))
    let elapsed: Duration
    switch mode {
    case "core": elapsed = try await runCore(connection)
    case "js": elapsed = try await runJetStream(connection, awaitEachAck: true)
    case "js-lazy": elapsed = try await runJetStream(connection, awaitEachAck: false)
    case "js-batch": elapsed = try await runJetStreamBatch(connection)
    case "js-inbox": elapsed = try await runJetStreamInbox(connection)
    default: throw BenchmarkFailure(description: "unknown mode \(mode)")
    }
    await connection.close()
    let time = seconds(elapsed)
    let shownWindow = mode == "core" ? 0 : window
    print(
        "swift \(mode) window=\(shownWindow) messages=\(messages) seconds=\(String(format: "%.3f", time)) rate=\(Int((Double(messages) / time).rounded()))"
    )
} catch {
    printError("NATSPublishBench: \(error)")
    exit(1)
}
