import Foundation
import GatewayCommands
import NATSClient
import NATSTestSupport
import NIOCore
import WireContract

// Reading a stream of MESSAGES signed status events, in each mode, ROUNDS times:
//
//   consumer-benchmark [MESSAGES] [ROUNDS]
//
//   msg-get            $JS.API.STREAM.MSG.GET for each sequence, one request at a time: the raw stream read
//                      rate, and what `subscribe --stream` did before it used a consumer
//   msg-get+verify     the same, each message opened and verified (the old subscribe path, minus printing)
//   fetch              an ephemeral consumer (no acks), fetch() in batches of 256
//   messages           an ephemeral consumer (no acks), the PullConsumerMessages sequence
//   messages+ack       a durable consumer, each message acknowledged (fire and forget)
//   subscribe          SubscriberRun --stream (ephemeral consumer): open, verify, format a JSON line per message
//   subscribe-durable  the same with --durable, acknowledging each message
//
// Rates are messages per second of wall time from the first request to the last message; the machine is
// shared, so compare modes within a round and look at the medians.

let arguments = CommandLine.arguments
let messageCount = arguments.count > 1 ? Int(arguments[1]) ?? 50_000 : 50_000
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let signingKey = try SigningKey(bytes: (0..<32).map { UInt8($0) &+ 40 })
let subjects = try Subjects(prefix: "wazuh")
let opener = MessageOpener(subjects: subjects, signingKey: signingKey)

let server = try NATSServerProcess(jetStream: true)
try await server.start()
let connection = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
let context = connection.jetStream(timeout: .seconds(10), maxPending: 1024)
_ = try await context.createStream(StreamConfig(name: "WAZUH", subjects: ["wazuh.>"], storage: .file))

// Store the events the way the gateway publishes them.
let sealer = MessageSealer()
var outgoing: [JetStreamOutgoingMessage] = []
for index in 0..<messageCount {
    let agent = index % 20_000 + 1
    let event = AgentStatusEvent(
        eventType: "status_change",
        eventID: EventID.make(
            agentID: agent, kind: "status_change", previous: "Active", current: "Disconnected",
            dateAdd: 1_700_000_000, transitionTime: 1_716_897_300 + Int64(index)),
        agentID: Subjects.agentToken(agent), agentName: "host-\(agent)", previousStatus: "Active",
        currentStatus: "Disconnected", reason: "agent_stopped", ipAddress: "10.0.\(agent / 256).\(agent % 256)",
        lastKeepalive: "2024-05-28T11:55:00Z", managerNode: "node01", nodeName: "node01",
        timestamp: "2024-05-28T12:00:00Z"
    ).signed(with: signingKey)
    let sealed = try sealer.seal(
        subject: "wazuh.agent.\(event.agentID).status", signedPayload: event.canonicalJSON(),
        messageID: event.eventID)
    var headers = NATSHeaders()
    for (name, value) in sealed.headers where name != WireHeaders.messageID {
        headers.append(name: name, value: value)
    }
    outgoing.append(
        JetStreamOutgoingMessage(
            subject: sealed.subject, payload: ByteBuffer(bytes: sealed.payload), headers: headers,
            messageID: event.eventID))
}
for ack in try await context.publishBatch(outgoing) { _ = try await ack.result() }
let stored = try await context.streamInfo(name: "WAZUH").state
guard stored.messages == UInt64(messageCount) else {
    throw BenchmarkFailure(description: "stream holds \(stored.messages) messages, expected \(messageCount)")
}
let payloadBytes = outgoing.first?.payload.readableBytes ?? 0
print("stored \(messageCount) signed events (\(payloadBytes) bytes each) in WAZUH (file storage)")
outgoing = []

func msgGet(verify: Bool) async throws -> Int {
    var read = 0
    for sequence in 1...UInt64(messageCount) {
        let message = try await context.getMessage(stream: "WAZUH", sequence: sequence)
        if verify {
            let headers = (message.headers ?? NATSHeaders()).map { ($0.name, $0.value) }
            _ = try opener.open(subject: message.subject, headers: headers, payload: message.payload)
        }
        read += 1
    }
    return read
}

func fetchAll() async throws -> Int {
    let consumer = try await context.createConsumer(stream: "WAZUH", config: ConsumerConfig(ackPolicy: .none))
    var read = 0
    while read < messageCount {
        read += try await context.fetch(
            stream: "WAZUH", consumer: consumer.name, PullRequest(batch: 256, expires: .seconds(5))
        ).count
    }
    try await context.deleteConsumer(stream: "WAZUH", name: consumer.name)
    return read
}

func sequenceAll(durable: String?) async throws -> Int {
    let consumer = try await context.createConsumer(
        stream: "WAZUH",
        config: ConsumerConfig(durableName: durable, ackPolicy: durable == nil ? .none : .explicit))
    var read = 0
    for try await message in context.messages(stream: "WAZUH", consumer: consumer.name) {
        if durable != nil { try await message.ack() }
        read += 1
        if read == messageCount { break }
    }
    try await context.deleteConsumer(stream: "WAZUH", name: consumer.name)
    return read
}

func subscribeAll(durable: String?) async throws -> Int {
    let run = SubscriberRun(
        opener: opener, options: .init(fromStream: true, durable: durable), streamName: "WAZUH",
        requestTimeout: .seconds(10))
    let report = try await run.run(on: connection, output: { _ in })
    guard report.verified == messageCount else {
        throw BenchmarkFailure(description: "subscribe verified \(report.verified) of \(messageCount)")
    }
    if let durable { try await context.deleteConsumer(stream: "WAZUH", name: durable) }
    return report.received
}

let modes: [(String, (Int) async throws -> Int)] = [
    ("msg-get", { _ in try await msgGet(verify: false) }),
    ("msg-get+verify", { _ in try await msgGet(verify: true) }),
    ("fetch", { _ in try await fetchAll() }),
    ("messages", { _ in try await sequenceAll(durable: nil) }),
    ("messages+ack", { round in try await sequenceAll(durable: "bench-\(round)") }),
    ("subscribe", { _ in try await subscribeAll(durable: nil) }),
    ("subscribe-durable", { round in try await subscribeAll(durable: "sub-\(round)") }),
]
var rates: [String: [Double]] = [:]
for round in 1...rounds {
    for (name, body) in modes {
        let started = ContinuousClock.now
        let read = try await body(round)
        let elapsed = seconds(ContinuousClock.now - started)
        guard read == messageCount else {
            throw BenchmarkFailure(description: "\(name) read \(read) of \(messageCount)")
        }
        let rate = Double(read) / elapsed
        rates[name, default: []].append(rate)
        print(
            "round \(round)  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", rate)) msg/s  (\(String(format: "%.2f", elapsed)) s)"
        )
    }
}
let baseline = median(rates["msg-get"] ?? [])
print("\nmedians over \(rounds) round(s), \(messageCount) messages:")
for (name, _) in modes {
    let value = median(rates[name] ?? [])
    print(
        "  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(format: "%8.0f", value)) msg/s  "
            + "\(String(format: "%5.1f", value / baseline))x msg-get")
}
await connection.close()
await server.stop()
