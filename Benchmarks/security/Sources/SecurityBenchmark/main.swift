import Foundation
import Gateway
import Logging
import Outbox
import WazuhSource
import WireContract

// The gateway's per-event cost with and without the security signals, measured in the same run with
// alternating rounds: a 20 000-agent fleet, cycles of `--cycle` status changes (default 100), each
// cycle encoded, signed and journaled with its snapshot in one transaction (signals on: plus the anomaly
// detector, a per-agent rate limit of 20/min, and their state), then every row sealed (LZ4 above 1 KiB) and marked delivered in pages of
// 256 (audit log: plus the SHA-256 of the sealed bytes and one chained record per row). Prints the
// median CPU time per event (this thread; robust against other processes) of each configuration, its
// range over the rounds, and the added share (of the medians, and its range over the off/on pairs).

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    arguments.firstIndex(of: name).flatMap { Int(arguments[$0 + 1]) } ?? fallback
}
let rounds = option("--rounds", 7)
let cycleSize = option("--cycle", 100)
let cycles = option("--cycles", 100)
let fleetSize = 20_000

func threadCPUSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let signingKey = try SigningKey(bytes: (0..<32).map { UInt8($0) })
let subjects = try Subjects(prefix: "wazuh")
let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
let encoder = DetectionEncoder(
    mapper: AgentEventMapper(managerNode: "manager-01"), subjects: subjects, signingKey: signingKey)
let sealer = WireDeliverySealer(sealer: MessageSealer(compressionMinBytes: 1024))
let nodes = ["node01", "node02", "node03", "node04"]

func record(_ id: Int, status: ConnectionStatus, time: Int64) -> AgentRecord {
    AgentRecord(
        id: id, name: "web-server-\(id).example.internal", ip: "10.1.\(id / 250).\(id % 250)", status: status,
        lastKeepalive: time, dateAdd: 1_700_000_000, disconnectionTime: status == .disconnected ? time : 0,
        statusCode: status == .disconnected ? 4 : 0, nodeName: nodes[id % nodes.count])
}

/// Cycle `index`: `cycleSize` agents spread over the fleet go Active → Disconnected (even cycles) or back.
func cycle(_ index: Int, records: inout [AgentRecord]) -> [AgentChange] {
    let time = 1_716_897_300 + Int64(index) * 30
    let disconnecting = index % 2 == 0
    var changes: [AgentChange] = []
    for offset in 0..<cycleSize {
        let id = (index / 2 * cycleSize + offset) * 37 % fleetSize + 1
        let before = records[id - 1]
        let after = record(id, status: disconnecting ? .disconnected : .active, time: time)
        records[id - 1] = after
        changes.append(
            AgentChange(
                kind: .statusChange, agentID: id, agentName: after.name, ipAddress: after.ip,
                previousStatus: before.status, currentStatus: after.status,
                reason: disconnecting ? .keepaliveTimeout : nil, statusCode: after.statusCode,
                lastKeepalive: time, nodeName: after.nodeName, dateAdd: after.dateAdd, transitionTime: time))
    }
    return changes
}

struct Sample {
    var detection: Double
    var delivery: Double
    var events: Int
}

/// One round: a fresh outbox, `cycles` cycles journaled, then everything sealed and marked delivered.
func round(signals: Bool) throws -> Sample {
    let directory = NSTemporaryDirectory() + "security-bench-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try OutboxStore(path: directory + "/outbox.db", synchronous: .normal)
    defer { try? store.close() }
    var records = (1...fleetSize).map { record($0, status: .active, time: 1_716_897_000) }
    let thresholds = AnomalyThresholds()
    let anomalies = AnomalyJournal(
        encoder: AnomalyEncoder(
            subjects: subjects, signingKey: signingKey, managerNode: "manager-01",
            windowSeconds: thresholds.windowSeconds),
        thresholds: thresholds, rateLimit: AgentRateLimiter(limit: 20, windowSeconds: 60), logger: logger,
        clockMilliseconds: { 1_716_900_000_000 })
    anomalies.seed(with: AgentSnapshot(records: records))
    var events = 0
    var detection = 0.0
    for index in 0..<cycles {
        let changes = cycle(index, records: &records)
        let snapshot = AgentSnapshot(records: records)  // the source read, not measured
        let start = threadCPUSeconds()
        let exported = snapshot.export()
        let rows = encoder.messages(
            for: changes, counts: snapshot.counts, detectedAtMilliseconds: 1_716_897_300_000 + Int64(index) * 30_000)
        if signals {
            try anomalies.journalCycle(changes, rows: rows, snapshot: snapshot, detectedAtMilliseconds: 0) {
                journaled, meta in
                try store.appendDetection(messages: journaled, snapshot: exported, meta: meta)
            }
        } else {
            try store.appendDetection(messages: rows, snapshot: exported)
        }
        detection += threadCPUSeconds() - start
        events += changes.count
    }
    var delivery = 0.0
    var after: Int64 = 0
    var stream: UInt64 = 0
    while true {
        let start = threadCPUSeconds()
        let page = try store.pendingMessages(afterSeq: after, limit: 256)
        if page.isEmpty { break }
        var plain: [(seq: Int64, streamSequence: UInt64?)] = []
        var audited: [AuditedDelivery] = []
        for message in page {
            let sealed = try sealer.seal(message)
            stream += 1
            if signals {
                audited.append(
                    AuditedDelivery(
                        seq: message.seq, streamSequence: stream, subject: sealed.subject,
                        messageID: message.messageID, payloadSHA256: AuditRecord.sha256(sealed.payload)))
            } else {
                plain.append((message.seq, stream))
            }
        }
        if signals {
            try store.markDelivered(audited: audited, at: 1_716_900_000_000)
        } else {
            try store.markDelivered(plain, at: 1_716_900_000_000)
        }
        delivery += threadCPUSeconds() - start
        after = page.last!.seq
    }
    if signals {
        guard try store.verifyAudit().isIntact else { fatalError("audit chain broken") }
    }
    return Sample(detection: detection, delivery: delivery, events: events)
}

// `--only on|off`: rounds of one configuration and no table, for a profiler (`perf record -g`).
if let index = arguments.firstIndex(of: "--only"), index + 1 < arguments.count {
    let signals = arguments[index + 1] == "on"
    for _ in 0..<rounds { _ = try round(signals: signals) }
    exit(0)
}

var off: [Sample] = []
var on: [Sample] = []
_ = try round(signals: false)  // warm-up
for _ in 0..<rounds {
    off.append(try round(signals: false))
    on.append(try round(signals: true))
}
func perEvent(_ samples: [Sample], _ part: (Sample) -> Double) -> [Double] {
    samples.map { part($0) / Double($0.events) * 1e6 }
}
print("fleet \(fleetSize) agents, \(cycles) cycles of \(cycleSize) changes, \(rounds) alternating rounds")
print(
    "per event (µs, median [min–max])   signals off              signals on               added (median, ratio on/off)")
for (name, part) in [
    ("detection + journal", { (s: Sample) in s.detection }), ("seal + mark delivered", { (s: Sample) in s.delivery }),
    ("total", { (s: Sample) in s.detection + s.delivery }),
] {
    let a = perEvent(off, part)
    let b = perEvent(on, part)
    // The ratio of each "on" round to the "off" round just before it: the spread of the added share.
    let ratios = zip(a, b).map { $1 / $0 - 1 }
    func cell(_ values: [Double]) -> String {
        String(format: "%7.2f [%.2f–%.2f]", median(values), values.min() ?? 0, values.max() ?? 0)
    }
    print(
        name.padding(toLength: 24, withPad: " ", startingAt: 0) + cell(a) + "   " + cell(b)
            + String(
                format: "   %+6.1f %% (pairs %+.1f … %+.1f %%)", (median(b) / median(a) - 1) * 100,
                (ratios.min() ?? 0) * 100, (ratios.max() ?? 0) * 100))
}
