import Foundation
import Outbox
import WireContract

// Measures the outbox write path (detection transactions of 1, 100 and 20 000 events with
// synchronous FULL and NORMAL), markDelivered, and sealing (sign, +compress, +encrypt).
// Prints medians over several runs; pass `--runs N` to change the number of runs (default 5).

let arguments = CommandLine.arguments
let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) } ?? 5
/// `--sealing-only` skips the outbox sections (for profiling the sealing path).
let sealingOnly = arguments.contains("--sealing-only")

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = ContinuousClock.now
    try body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// CPU time of the calling thread: robust against other processes competing for the cores.
func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func microseconds(_ value: Double) -> String { String(format: "%8.2f µs", value * 1e6) }

let signingKey = try SigningKey(bytes: (0..<32).map { UInt8($0) })
let encryptionKey = try EncryptionKey(bytes: (0..<32).map { UInt8($0) &+ 1 })
let subjects = try Subjects(prefix: "wazuh")

func event(_ index: Int) -> AgentStatusEvent {
    let agent = index % 20_000 + 1
    return AgentStatusEvent(
        eventType: "status_change",
        eventID: EventID.make(
            agentID: agent, kind: "status_change", previous: "Active", current: "Disconnected", dateAdd: 1_700_000_000,
            transitionTime: 1_716_897_300 + Int64(index)),
        agentID: Subjects.agentToken(agent), agentName: "web-server-\(agent).example.internal",
        previousStatus: "Active",
        currentStatus: "Disconnected", reason: "keepalive_timeout", ipAddress: "10.1.\(agent / 250).\(agent % 250)",
        lastKeepalive: "2024-05-28T11:55:00Z", managerNode: "manager-01", nodeName: "node01",
        timestamp: "2024-05-28T12:00:00Z"
    ).signed(with: signingKey)
}

let events = (0..<20_000).map(event)
let messages = events.map { event in
    NewOutboxMessage(
        messageID: event.eventID, eventID: event.eventID, kind: .event, subject: subjects.status(agentID: 1),
        agentID: event.agentID, payload: event.canonicalJSON())
}
let snapshot = [UInt8](repeating: 0x5A, count: 20_000 * 64)  // a 20k-agent snapshot, ~1.3 MB
print(
    "outbox benchmark: \(runs) runs, event payload \(messages[0].payload.count) bytes, snapshot \(snapshot.count) bytes"
)

let base = FileManager.default.temporaryDirectory.path + "/outbox-benchmark-\(getpid())"
try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: base) }

/// Journals `total` events in transactions of `perTransaction`, returns seconds per event.
func writeCost(synchronous: OutboxSynchronous, perTransaction: Int, total: Int, snapshotBytes: [UInt8]) throws -> Double
{
    let path = base + "/write-\(UUID().uuidString).sqlite"
    defer {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
    let store = try OutboxStore(path: path, synchronous: synchronous)
    let elapsed = try seconds {
        var offset = 0
        while offset < total {
            let chunk = Array(messages[offset..<min(total, offset + perTransaction)])
            try store.appendDetection(messages: chunk, snapshot: snapshotBytes)
            offset += perTransaction
        }
    }
    try store.close()
    return elapsed / Double(total)
}

print("\n## Outbox write cost per event (appendDetection: messages + snapshot in one transaction)")
print("synchronous | events/transaction | snapshot bytes | transactions | per event (median) | per transaction")
let writeCases: [(perTransaction: Int, total: Int, snapshot: [UInt8])] = [
    (1, 300, [UInt8](repeating: 0x5A, count: 64)), (1, 300, snapshot), (100, 3000, snapshot),
    (20_000, 20_000, snapshot),
]
for synchronous in sealingOnly ? [] : [OutboxSynchronous.full, .normal] {
    for writeCase in writeCases {
        let perEvent = median(
            try (0..<runs).map { _ in
                try writeCost(
                    synchronous: synchronous, perTransaction: writeCase.perTransaction, total: writeCase.total,
                    snapshotBytes: writeCase.snapshot)
            })
        let columns = [
            synchronous.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0),
            String(format: "%18d", writeCase.perTransaction), String(format: "%14d", writeCase.snapshot.count),
            String(format: "%12d", writeCase.total / writeCase.perTransaction), microseconds(perEvent) + "          ",
            String(format: "%9.3f ms", perEvent * Double(writeCase.perTransaction) * 1e3),
        ]
        print(columns.joined(separator: " | "))
    }
}

print("\n## markDelivered cost per event (20 000 journaled rows, acks of 256 per transaction)")
for synchronous in sealingOnly ? [] : [OutboxSynchronous.full, .normal] {
    let perEvent = median(
        try (0..<runs).map { _ in
            let path = base + "/ack-\(UUID().uuidString).sqlite"
            defer {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            let store = try OutboxStore(path: path, synchronous: synchronous)
            try store.appendDetection(messages: messages, snapshot: [])
            var after: Int64 = 0
            let elapsed = try seconds {
                while true {
                    let page = try store.pendingMessages(afterSeq: after, limit: 256)
                    if page.isEmpty { break }
                    try store.markDelivered(page.map { (seq: $0.seq, streamSequence: UInt64($0.seq)) }, at: 1)
                    after = page.last?.seq ?? after
                }
            }
            try store.close()
            return elapsed / Double(messages.count)
        })
    print("\(synchronous.rawValue): \(microseconds(perEvent)) per event (page read of 256 + markDelivered)")
}

print("\n## Sealing cost per event (20 000 events)")
let unsignedEvents = events.map { event -> AgentStatusEvent in
    var copy = event
    copy.signature = nil
    return copy
}
let cases: [(String, MessageSealer)] = [
    ("sign", MessageSealer(compressionMinBytes: Int.max)),
    ("sign+compress", MessageSealer(compressionMinBytes: 0)),
    ("sign+compress+encrypt", MessageSealer(compressionMinBytes: 0, encryptionKey: encryptionKey)),
    ("sign+encrypt", MessageSealer(compressionMinBytes: Int.max, encryptionKey: encryptionKey)),
]
for (name, sealer) in cases {
    var sizes = 0
    var cpu = [Double]()
    let perEvent = median(
        try (0..<runs).map { _ in
            sizes = 0
            let cpuStart = threadCPUSeconds()
            let elapsed = try seconds {
                for event in unsignedEvents {
                    let payload = event.signed(with: signingKey).canonicalJSON()
                    let sealed = try sealer.seal(
                        subject: "wazuh.agent.001.status", signedPayload: payload, messageID: event.eventID)
                    sizes += sealed.payload.count
                }
            }
            cpu.append((threadCPUSeconds() - cpuStart) / Double(unsignedEvents.count))
            return elapsed / Double(unsignedEvents.count)
        })
    print(
        "\(name.padding(toLength: 22, withPad: " ", startingAt: 0)): \(microseconds(perEvent)) wall, \(microseconds(median(cpu))) CPU per event, mean payload \(sizes / unsignedEvents.count) bytes"
    )
}

// A 20k-event batch: the cycle message of a restart storm, compressed as one frame.
let batch = BatchStatusUpdate(
    batchID: BatchStatusUpdate.makeBatchID(time: 1, eventIDs: events.map(\.eventID)), managerNode: "manager-01",
    timestamp: "2024-05-28T12:00:00Z", events: events,
    summary: BatchSummary(
        fleet: FleetCounts(
            totalAgents: 20_000, activeAgents: 0, disconnectedAgents: 20_000, pendingAgents: 0, neverConnectedAgents: 0),
        changesDetected: 20_000))
var batchSizes = (0, 0)
let batchSeconds = median(
    try (0..<runs).map { _ in
        try seconds {
            let payload = batch.signed(with: signingKey).canonicalJSON()
            let sealed = try MessageSealer(encryptionKey: encryptionKey).seal(
                subject: subjects.agentEvents, signedPayload: payload, messageID: batch.batchID)
            batchSizes = (payload.count, sealed.payload.count)
        }
    })
print(
    "20k-event batch sign+compress+encrypt: \(String(format: "%.1f ms", batchSeconds * 1e3)), \(batchSizes.0) → \(batchSizes.1) bytes"
)

// A million pending rows: journaling them, then the paging and counting queries the delivery worker and
// the metrics use; peak RSS shows that nothing loads the backlog into memory.
if arguments.contains("--million") {
    print("\n## One million pending rows (synchronous=NORMAL, transactions of 20 000)")
    let path = base + "/million.sqlite"
    let store = try OutboxStore(path: path, synchronous: .normal)
    let journal = try seconds {
        for round in 0..<50 {
            let chunk = messages.map { message -> NewOutboxMessage in
                var copy = message
                copy.messageID = "\(round):" + message.messageID
                return copy
            }
            try store.appendDetection(messages: chunk, snapshot: snapshot)
        }
    }
    print(String(format: "journal 1M events: %.1f s (%.2f µs per event)", journal, journal / 1e6 * 1e6))
    var count = 0
    let countTime = try seconds { count = try store.pendingCount() }
    print(String(format: "pendingCount() = %d: %.1f ms", count, countTime * 1e3))
    let oldestTime = try seconds { _ = try store.oldestPendingCreatedAt() }
    print(String(format: "oldestPendingCreatedAt(): %.3f ms", oldestTime * 1e3))
    let pageTime = try seconds { _ = try store.pendingMessages(afterSeq: 500_000, limit: 256) }
    print(String(format: "pendingMessages(afterSeq: 500000, limit: 256): %.3f ms", pageTime * 1e3))
    let statsTime = try seconds { _ = try store.stats() }
    print(String(format: "stats(): %.1f ms", statsTime * 1e3))
    try store.close()
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let peak = status.split(separator: "\n").first { $0.hasPrefix("VmHWM") } ?? "VmHWM: ?"
    print("peak RSS of the whole benchmark process: \(peak.dropFirst(6).trimmingCharacters(in: .whitespaces))")
}
