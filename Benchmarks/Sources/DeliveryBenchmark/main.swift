import Foundation
import Gateway
import Logging
import NATSClient
import NATSTestSupport
import NIOCore
import Outbox
import ServiceLifecycle
import Synchronization
import WazuhSimulator
import WazuhSource
import WireContract

// The 20k-agent manager-restart storm, end to end, beside raw acknowledged publish rates.
//
//   delivery-benchmark [AGENTS] [ROUNDS] [RAW_MESSAGES|same] [C_BENCH_PATH]
//
// RAW_MESSAGES `same`: the raw runs publish as many messages as the storm journaled. Environment (used by
// the end-to-end suite, `Benchmarks/suite.sh`): DELIVERY_PATHS=context runs only the default JetStreamContext
// path; C_PENDING="4000 256" the C client's pending limits; BENCH_JSON=FILE appends one JSON object per
// measurement (see `record`).
//
// Per round, for each JetStream publish path of NATSDeliveryTransport (own reply inbox, pipelined
// JetStreamContext): a fresh simulator global.db with AGENTS active agents, a DetectionService journaling a
// baseline, then three committed steps (restart storm: all -> disconnected code 5; all -> pending; all ->
// active), each journaled before the next (journaling rate: commit -> rows in the outbox). Then a
// DeliveryWorker (window 256) drains the outbox to JetStream (file storage), timed from its first send until
// every row is acknowledged and marked delivered; the stream's message count is checked. In the same round,
// against the same server: our client's raw pipelined JetStream publish (400-byte messages, own Nats-Msg-Id,
// window 256, acks awaited in order) and, given C_BENCH_PATH, the C client (js_PublishAsync, 4000 and 256
// pending). Prints each run and the medians with ratios.
//
// Besides rates it reports CPU time per message, which a machine shared with other work distorts far less:
// of this process (the worker, the NATS client, the journal; getrusage) and of the nats-server process
// (/proc/PID/stat), over the timed delivery and over the raw run. The outbox lives in its own directory, as
// in a real installation: beside global.db, every outbox write would also wake the source watcher.
//
// Each round also runs the storm overlapped, as in production: the worker (JetStreamContext path) runs while
// detection journals, each step is committed as soon as the previous one is journaled, and the clock runs from
// the first COMMIT until every row is delivered.

/// A benchmark run that could not complete.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func format(_ value: Double) -> String {
    String(format: "%.0f", value)
}

/// CPU seconds (user + system) used so far by this process, and by process `pid` (from /proc).
struct CPUTimes {
    var own: Double
    var server: Double

    static func now(server pid: Int32?) -> CPUTimes {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        let own =
            Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
        var server = 0.0
        if let pid, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // After the command name: state is field 3, utime field 14 and stime field 15 (clock ticks).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) {
                server = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        return CPUTimes(own: own, server: server)
    }

    static func - (lhs: CPUTimes, rhs: CPUTimes) -> CPUTimes {
        CPUTimes(own: lhs.own - rhs.own, server: lhs.server - rhs.server)
    }
}

func microseconds(_ seconds: Double, per count: Int) -> String {
    String(format: "%.1f", seconds * 1e6 / Double(count))
}

/// Records when the first message was sent and how many rows have been acknowledged.
final class DeliveryProgress: DeliveryObserver {
    private struct State {
        var firstSend: ContinuousClock.Instant?
        var delivered = 0
        var failedAttempts = 0
    }
    private let state = Mutex(State())

    func sent() {
        state.withLock { state in
            if state.firstSend == nil { state.firstSend = .now }
        }
    }

    var firstSend: ContinuousClock.Instant? { state.withLock { $0.firstSend } }
    var delivered: Int { state.withLock { $0.delivered } }
    var failedAttempts: Int { state.withLock { $0.failedAttempts } }

    func delivered(count: Int, ackLatencies: [Duration]) { state.withLock { $0.delivered += count } }
    func parked(seq: Int64, failure: DeliveryFailure) {}
    func attemptFailed(_ failure: DeliveryFailure) { state.withLock { $0.failedAttempts += 1 } }
    func breakerChanged(_ transition: BreakerTransition) {}
    func outboxDepthChanged(pending: Int, oldestPendingAgeSeconds: Int64?) {}
}

/// Notes the first send of the wrapped transport.
struct TimedTransport: DeliveryTransport {
    let inner: NATSDeliveryTransport
    let progress: DeliveryProgress

    func prepare() async throws { try await inner.prepare() }
    func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        progress.sent()
        return try await inner.send(message)
    }
    func sendBatch(_ messages: [OutgoingMessage]) async throws -> [DeliveryReceipt]? {
        progress.sent()
        return try await inner.sendBatch(messages)
    }
    func publishUnjournaled(_ message: OutgoingMessage) async throws { try await inner.publishUnjournaled(message) }
    func flush() async throws { try await inner.flush() }
    var isConnected: Bool { inner.isConnected }
    var connectionState: String { inner.connectionState }
    func classify(_ error: any Error) -> DeliveryFailure { inner.classify(error) }
}

struct StormResult {
    var events: Int
    var messages: Int
    var journalSeconds: Double
    var deliverySeconds: Double
    var deliveryCPU: CPUTimes
    var failedAttempts: Int
    /// The outbox directory's size once the storm was journaled (database, WAL; includes the snapshot).
    var outboxBytes: Int
}

let logger = Logger(label: "delivery-benchmark", factory: { _ in SwiftLogNoOpLogHandler() })
let arguments = CommandLine.arguments
let agentCount = arguments.count > 1 ? Int(arguments[1]) ?? 20_000 : 20_000
let rounds = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3
let rawSameAsStorm = arguments.count > 3 && arguments[3] == "same"
nonisolated(unsafe) var rawMessages = arguments.count > 3 ? Int(arguments[3]) ?? 100_000 : 100_000
let environment = ProcessInfo.processInfo.environment
let cPendingLimits = (environment["C_PENDING"] ?? "4000 256").split(separator: " ").compactMap { Int($0) }
let jsonPath = environment["BENCH_JSON"]

/// Appends one measurement to BENCH_JSON (one JSON object per line), when set.
func record(_ fields: [String: Any]) {
    guard let jsonPath else { return }
    var object = fields
    object["agents"] = agentCount
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
    if !FileManager.default.fileExists(atPath: jsonPath) {
        _ = FileManager.default.createFile(atPath: jsonPath, contents: nil)
    }
    guard let handle = FileHandle(forWritingAtPath: jsonPath) else { return }
    handle.seekToEndOfFile()
    handle.write(data + Data([0x0A]))
    try? handle.close()
}

/// Bytes of the files in `directory` (the outbox database, its WAL and shared memory).
func directoryBytes(_ directory: String) -> Int {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.reduce(0) { total, name in
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory + "/" + name)
        return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
    }
}
let cBench = arguments.count > 4 ? arguments[4] : nil
let stormStream = "STORM"

func connect(_ server: NATSServerProcess) async throws -> NATSConnection {
    var options = try NATSConnectionOptions(url: server.url)
    options.requestTimeout = .seconds(30)
    return try await NATSConnection.connect(options: options, logger: logger)
}

/// A fresh simulated manager (global.db), outbox and detection service for one storm.
struct StormFixture {
    var directory: String
    var simulator: WazuhSimulator
    var store: OutboxStore
    var detection: DetectionService
    var wake: DeliveryWakeSignal
    var ids: [Int]

    init(round: Int) throws {
        directory = try NATSServerProcess.makeTemporaryDirectory(prefix: "delivery-bench")
        simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: directory + "/global.db", agentCount: agentCount, seed: UInt64(round + 1),
                initiallyActive: 1.0))
        try FileManager.default.createDirectory(atPath: directory + "/outbox", withIntermediateDirectories: false)
        store = try OutboxStore(path: directory + "/outbox/outbox.db", synchronous: .normal)
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: directory + "/global.db"))
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "bench-manager"), subjects: try Subjects(prefix: "storm"),
            signingKey: try SigningKey(bytes: (0..<32).map { _ in UInt8.random(in: 0...255) }))
        wake = DeliveryWakeSignal()
        detection = DetectionService(monitor: monitor, store: store, encoder: encoder, wakeSignal: wake, logger: logger)
        ids = simulator.agentIDs.filter { $0 > 0 }
    }

    /// The three storm steps: restart storm (all -> disconnected, code 5), all -> pending, all -> active.
    var steps: [(String, () throws -> Void)] {
        let simulator = self.simulator
        let ids = self.ids
        return [
            ("restart storm", { try simulator.apply(.restartStorm) }),
            ("all pending", { for id in ids { try simulator.apply(.connect(agentID: id)) } }),
            ("all active", { for id in ids { try simulator.apply(.activate(agentID: id)) } }),
        ]
    }

    /// A worker draining this outbox to stream STORM through `transport`.
    func worker(transport: any DeliveryTransport, progress: DeliveryProgress) -> DeliveryWorker {
        DeliveryWorker(
            journal: store, transport: transport, sealer: WireDeliverySealer(sealer: MessageSealer()),
            configuration: DeliveryWorkerConfiguration(
                maxInFlight: 256, pageSize: 256, shutdownTimeout: .seconds(30), pollInterval: .milliseconds(50),
                heartbeatInterval: nil),
            observer: progress, wakeSignal: wake, logger: logger)
    }
}

func runStorm(server: NATSServerProcess, path: JetStreamPublishPath, round: Int) async throws -> StormResult {
    let fixture = try StormFixture(round: round)
    let directory = fixture.directory
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let (simulator, store, detection, ids) = (fixture.simulator, fixture.store, fixture.detection, fixture.ids)

    // Journaling: the baseline, then three committed steps, each waited for before the next.
    let journalSeconds = try await withRunningService(detection, logger: logger) { () async throws -> Double in
        try await eventually("the baseline", timeout: .seconds(120), poll: .milliseconds(2)) {
            try store.loadSnapshot() != nil
        }
        var total = 0.0
        for (name, step) in fixture.steps {
            simulator.now += 5
            let before = try store.stats().lastSeq
            try step()
            let committed = ContinuousClock.now
            try simulator.commit()
            // One cheap indexed probe per 5 ms: is there a row past the last one before this step?
            try await eventually("journaling of '\(name)'", timeout: .seconds(300), poll: .milliseconds(5)) {
                try !store.pendingMessages(afterSeq: before, limit: 1).isEmpty
            }
            total += seconds(ContinuousClock.now - committed)
        }
        return total
    }
    try simulator.close()
    let outboxBytes = directoryBytes(directory + "/outbox")
    let stats = try store.stats()
    let messages = stats.pending
    let events = try store.messages(matching: OutboxQuery(kinds: [.event], limit: 10_000_000)).count
    guard events == 3 * ids.count else {
        throw BenchmarkFailure(description: "journaled \(events) events, expected \(3 * ids.count)")
    }

    // Delivery: a fresh stream, then drain the outbox.
    let connection = try await connect(server)
    let jetStream = connection.jetStream(timeout: .seconds(30))
    try? await jetStream.deleteStream(name: stormStream)
    let progress = DeliveryProgress()
    let transport = NATSDeliveryTransport(
        connection: connection,
        mode: .jetstream(JetStreamSettings(streamName: stormStream, subjects: ["storm.>"])),
        ackTimeout: .seconds(30), publishPath: path, logger: logger)
    let worker = fixture.worker(transport: TimedTransport(inner: transport, progress: progress), progress: progress)
    let cpuBefore = CPUTimes.now(server: server.processIdentifier)
    let (deliverySeconds, deliveryCPU) = try await withRunningService(worker, logger: logger) {
        () async throws -> (Double, CPUTimes) in
        try await eventually("the outbox to drain", timeout: .seconds(600), poll: .milliseconds(2)) {
            progress.delivered >= messages
        }
        let end = ContinuousClock.now
        let cpu = CPUTimes.now(server: server.processIdentifier) - cpuBefore
        guard let start = progress.firstSend else { throw BenchmarkFailure(description: "nothing was sent") }
        return (seconds(end - start), cpu)
    }
    transport.stop()
    let pending = try store.pendingCount()
    let stored = try await jetStream.streamInfo(name: stormStream).state.messages
    await connection.close()
    try store.close()
    guard pending == 0, stored == UInt64(messages) else {
        throw BenchmarkFailure(description: "outbox still holds \(pending); stream holds \(stored) of \(messages)")
    }
    return StormResult(
        events: events, messages: messages, journalSeconds: journalSeconds, deliverySeconds: deliverySeconds,
        deliveryCPU: deliveryCPU, failedAttempts: progress.failedAttempts, outboxBytes: outboxBytes)
}

/// What an overlapped storm measured: detection and delivery running together, as in production.
struct OverlappedResult {
    var events: Int
    var messages: Int
    /// From the first step's COMMIT until every journaled row was acknowledged and marked delivered.
    var seconds: Double
    /// Over the same interval; this process includes detection (read, diff, sign, journal).
    var cpu: CPUTimes
}

/// The storm with the worker already running: each step is committed once the previous one is journaled
/// (not delivered), and the clock stops when the last row is delivered.
func runOverlappedStorm(server: NATSServerProcess, path: JetStreamPublishPath, round: Int) async throws
    -> OverlappedResult
{
    let fixture = try StormFixture(round: round)
    let directory = fixture.directory
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let (simulator, store) = (fixture.simulator, fixture.store)
    let connection = try await connect(server)
    let jetStream = connection.jetStream(timeout: .seconds(30))
    try? await jetStream.deleteStream(name: stormStream)
    let progress = DeliveryProgress()
    let transport = NATSDeliveryTransport(
        connection: connection,
        mode: .jetstream(JetStreamSettings(streamName: stormStream, subjects: ["storm.>"])),
        ackTimeout: .seconds(30), publishPath: path, logger: logger)
    let worker = fixture.worker(transport: transport, progress: progress)
    // The worker first: services shut down in reverse order, so detection stops before the worker drains.
    let group = ServiceGroup(configuration: .init(services: [worker, fixture.detection], logger: logger))
    let task = Task { try await group.run() }
    let outcome: Result<(Double, CPUTimes, Int), any Error>
    do {
        try await eventually("the baseline", timeout: .seconds(120), poll: .milliseconds(2)) {
            try store.loadSnapshot() != nil
        }
        let start = ContinuousClock.now
        let cpuBefore = CPUTimes.now(server: server.processIdentifier)
        for (name, step) in fixture.steps {
            simulator.now += 5
            let before = try store.stats().lastSeq
            try step()
            try simulator.commit()
            // Rows may be delivered as soon as they land, so probe for any row past the last one, pending or not.
            try await eventually("journaling of '\(name)'", timeout: .seconds(300), poll: .milliseconds(5)) {
                try !store.messages(matching: OutboxQuery(afterSeq: before, limit: 1)).isEmpty
            }
        }
        // Each step is journaled in one transaction, so every row is in the outbox now (checked at the end).
        let journaled = try store.stats().lastSeq
        try await eventually("the outbox to drain", timeout: .seconds(600), poll: .milliseconds(2)) {
            progress.delivered >= journaled
        }
        let cpu = CPUTimes.now(server: server.processIdentifier) - cpuBefore
        outcome = .success((seconds(ContinuousClock.now - start), cpu, Int(journaled)))
    } catch {
        outcome = .failure(error)
    }
    await group.triggerGracefulShutdown()
    _ = try? await task.value
    transport.stop()
    let (elapsed, cpu, messages) = try outcome.get()
    try simulator.close()
    let events = try store.messages(matching: OutboxQuery(kinds: [.event], limit: 10_000_000)).count
    let pending = try store.pendingCount()
    let stored = try await jetStream.streamInfo(name: stormStream).state.messages
    await connection.close()
    try store.close()
    guard events == 3 * fixture.ids.count, pending == 0, stored == UInt64(messages) else {
        throw BenchmarkFailure(
            description: "overlapped: \(events) events journaled, \(pending) pending, "
                + "stream holds \(stored) of \(messages)")
    }
    return OverlappedResult(events: events, messages: messages, seconds: elapsed, cpu: cpu)
}

/// Our client's raw acknowledged publish rate: pipelined, window 256, acks awaited in publish order.
func runRawPublish(server: NATSServerProcess, round: Int) async throws -> (rate: Double, cpu: CPUTimes) {
    let connection = try await connect(server)
    let jetStream = connection.jetStream(timeout: .seconds(30), maxPending: 256)
    try? await jetStream.deleteStream(name: "RAWBENCH")
    _ = try await jetStream.createStream(StreamConfig(name: "RAWBENCH", subjects: ["rawbench.js"]))
    let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: 400)
    var outstanding: [PendingAck] = []
    outstanding.reserveCapacity(rawMessages)
    var next = 0
    let cpuBefore = CPUTimes.now(server: server.processIdentifier)
    let start = ContinuousClock.now
    for index in 0..<rawMessages {
        outstanding.append(
            try await jetStream.publishPipelined(
                subject: "rawbench.js", payload: payload, messageID: "raw-\(round)-\(index)"))
        if outstanding.count - next >= 256 {
            _ = try await outstanding[next].result()
            next += 1
        }
    }
    while next < outstanding.count {
        _ = try await outstanding[next].result()
        next += 1
    }
    let elapsed = seconds(ContinuousClock.now - start)
    let cpu = CPUTimes.now(server: server.processIdentifier) - cpuBefore
    let stored = try await jetStream.streamInfo(name: "RAWBENCH").state.messages
    try await jetStream.deleteStream(name: "RAWBENCH")
    await connection.close()
    guard stored == UInt64(rawMessages) else {
        throw BenchmarkFailure(description: "raw stream holds \(stored) of \(rawMessages)")
    }
    return (Double(rawMessages) / elapsed, cpu)
}

/// The C client's rate from `js_bench URL js MESSAGES RUN_ID PENDING` (its line ends in `rate=R`).
func runCBench(_ executable: String, server: NATSServerProcess, round: Int, pending: Int) throws -> (
    rate: Double, cpu: CPUTimes
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = [server.url, "js", String(rawMessages), "c\(round)-\(pending)", String(pending)]
    let output = Pipe()
    process.standardOutput = output
    let cpuBefore = CPUTimes.now(server: server.processIdentifier)
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    // The child's CPU: RUSAGE_CHILDREN grows by each waited-for child's total.
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    let children =
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
    let cpu = CPUTimes(
        own: children - cBenchChildCPU, server: CPUTimes.now(server: server.processIdentifier).server - cpuBefore.server
    )
    cBenchChildCPU = children
    let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard process.terminationStatus == 0, let rate = line.split(separator: "=").last.flatMap({ Double($0) }) else {
        throw BenchmarkFailure(description: "js_bench failed (\(process.terminationStatus)): \(line)")
    }
    return (rate, cpu)
}
nonisolated(unsafe) var cBenchChildCPU = 0.0

let server = try NATSServerProcess(jetStream: true, extraConfig: "max_payload: 1048576\n")
try await server.start()
let paths: [(String, JetStreamPublishPath)] =
    environment["DELIVERY_PATHS"] == "context"
    ? [("JetStreamContext", .pipelinedContext)]
    : [("reply inbox", .replyInbox), ("JetStreamContext", .pipelinedContext)]
var journalRates: [Double] = []
var deliveryEvents: [String: [Double]] = [:]
var deliveryMessages: [String: [Double]] = [:]
var rawRates: [Double] = []
var deliveryOwnCPU: [String: [Double]] = [:]
var deliveryServerCPU: [String: [Double]] = [:]
var overlappedEvents: [Double] = []
var overlappedMessages: [Double] = []
var overlappedCPU: [Double] = []
var overlappedServerCPU: [Double] = []
var rawOwnCPU: [Double] = []
var rawServerCPU: [Double] = []
var cRates: [Int: [Double]] = [:]
var shape = ""
print(
    "# \(agentCount) agents, \(rounds) rounds, raw runs of "
        + (rawSameAsStorm ? "as many" : "\(rawMessages)") + " x 400-byte messages")
for round in 1...rounds {
    for (name, path) in paths {
        let result = try await runStorm(server: server, path: path, round: round)
        shape = "\(result.events) events, \(result.messages) messages journaled"
        let journalRate = Double(result.events) / result.journalSeconds
        journalRates.append(journalRate)
        deliveryEvents[name, default: []].append(Double(result.events) / result.deliverySeconds)
        deliveryMessages[name, default: []].append(Double(result.messages) / result.deliverySeconds)
        deliveryOwnCPU[name, default: []].append(result.deliveryCPU.own * 1e6 / Double(result.messages))
        deliveryServerCPU[name, default: []].append(result.deliveryCPU.server * 1e6 / Double(result.messages))
        if rawSameAsStorm { rawMessages = result.messages }
        record([
            "kind": "storm", "path": name, "round": round, "events": result.events, "messages": result.messages,
            "journal_s": result.journalSeconds, "delivery_s": result.deliverySeconds,
            "cpu_us_per_msg": result.deliveryCPU.own * 1e6 / Double(result.messages),
            "server_cpu_us_per_msg": result.deliveryCPU.server * 1e6 / Double(result.messages),
            "failed_attempts": result.failedAttempts, "outbox_bytes": result.outboxBytes,
        ])
        print(
            "round \(round) storm [\(name)]: \(shape); journaled in \(String(format: "%.2f", result.journalSeconds)) s "
                + "(\(format(journalRate)) events/s); delivered in \(String(format: "%.2f", result.deliverySeconds)) s = "
                + "\(format(Double(result.events) / result.deliverySeconds)) events/s, "
                + "\(format(Double(result.messages) / result.deliverySeconds)) msg/s; "
                + "CPU per message: gateway \(microseconds(result.deliveryCPU.own, per: result.messages)) µs, "
                + "nats-server \(microseconds(result.deliveryCPU.server, per: result.messages)) µs; "
                + "\(result.failedAttempts) failed attempts")
    }
    let overlapped = try await runOverlappedStorm(server: server, path: .pipelinedContext, round: round)
    overlappedEvents.append(Double(overlapped.events) / overlapped.seconds)
    overlappedMessages.append(Double(overlapped.messages) / overlapped.seconds)
    overlappedCPU.append(overlapped.cpu.own * 1e6 / Double(overlapped.messages))
    overlappedServerCPU.append(overlapped.cpu.server * 1e6 / Double(overlapped.messages))
    record([
        "kind": "overlapped", "path": "JetStreamContext", "round": round, "events": overlapped.events,
        "messages": overlapped.messages, "seconds": overlapped.seconds,
        "cpu_us_per_msg": overlapped.cpu.own * 1e6 / Double(overlapped.messages),
        "server_cpu_us_per_msg": overlapped.cpu.server * 1e6 / Double(overlapped.messages),
    ])
    print(
        "round \(round) overlapped storm [JetStreamContext]: first commit -> all \(overlapped.messages) messages "
            + "delivered in \(String(format: "%.2f", overlapped.seconds)) s = "
            + "\(format(Double(overlapped.events) / overlapped.seconds)) events/s, "
            + "\(format(Double(overlapped.messages) / overlapped.seconds)) msg/s; CPU per message: gateway (detection "
            + "and delivery) \(microseconds(overlapped.cpu.own, per: overlapped.messages)) µs, "
            + "nats-server \(microseconds(overlapped.cpu.server, per: overlapped.messages)) µs")
    let (raw, rawCPU) = try await runRawPublish(server: server, round: round)
    rawRates.append(raw)
    rawOwnCPU.append(rawCPU.own * 1e6 / Double(rawMessages))
    rawServerCPU.append(rawCPU.server * 1e6 / Double(rawMessages))
    record([
        "kind": "raw-swift", "round": round, "messages": rawMessages, "rate": raw,
        "cpu_us_per_msg": rawCPU.own * 1e6 / Double(rawMessages),
        "server_cpu_us_per_msg": rawCPU.server * 1e6 / Double(rawMessages),
    ])
    print(
        "round \(round) raw Swift JetStreamContext (window 256): \(format(raw)) msg/s; CPU per message: client "
            + "\(microseconds(rawCPU.own, per: rawMessages)) µs, "
            + "nats-server \(microseconds(rawCPU.server, per: rawMessages)) µs")
    if let cBench {
        for pending in cPendingLimits {
            let (rate, cpu) = try runCBench(cBench, server: server, round: round, pending: pending)
            cRates[pending, default: []].append(rate)
            record([
                "kind": "raw-c", "round": round, "messages": rawMessages, "rate": rate, "pending": pending,
                "cpu_us_per_msg": cpu.own * 1e6 / Double(rawMessages),
                "server_cpu_us_per_msg": cpu.server * 1e6 / Double(rawMessages),
            ])
            print("round \(round) raw C js_PublishAsync (\(pending) pending): \(format(rate)) msg/s")
        }
    }
}
await server.stop()

let load =
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
    .joined(separator: " ") ?? "?"
print("")
print("## Medians over \(rounds) rounds (\(shape); load average at the end: \(load))")
print("journaling (commit -> rows in the outbox): \(format(median(journalRates))) events/s")
let rawMedian = median(rawRates)
let cMedian = cRates[4000].map(median)
for (name, _) in paths {
    let messages = median(deliveryMessages[name] ?? [])
    var line = "storm delivery [\(name)]: \(format(median(deliveryEvents[name] ?? []))) events/s, "
    line += "\(format(messages)) msg/s = \(String(format: "%.0f", 100 * messages / rawMedian))% of raw Swift"
    if let cMedian { line += ", \(String(format: "%.0f", 100 * messages / cMedian))% of C (4000)" }
    line += String(
        format: "; CPU per message: gateway %.1f µs, nats-server %.1f µs", median(deliveryOwnCPU[name] ?? []),
        median(deliveryServerCPU[name] ?? []))
    print(line)
}
print(
    "overlapped storm [JetStreamContext], first commit -> all delivered: \(format(median(overlappedEvents))) events/s, "
        + "\(format(median(overlappedMessages))) msg/s; CPU per message: gateway (detection and delivery) "
        + String(format: "%.1f µs, nats-server %.1f µs", median(overlappedCPU), median(overlappedServerCPU)))
print(
    "raw Swift JetStreamContext window 256: \(format(rawMedian)) msg/s; CPU per message: client "
        + String(format: "%.1f µs, nats-server %.1f µs", median(rawOwnCPU), median(rawServerCPU)))
for pending in cPendingLimits {
    if let rates = cRates[pending] {
        let rate = median(rates)
        print(
            "raw C js_PublishAsync \(pending) pending: \(format(rate)) msg/s; Swift/C = "
                + "\(String(format: "%.0f", 100 * rawMedian / rate))%")
    }
}
