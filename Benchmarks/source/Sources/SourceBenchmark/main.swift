import Foundation
import Synchronization
import WazuhSimulator
import WazuhSource

/// Source benchmarks (run in release):
///   read+diff time and snapshot bytes per agent at 1k, 10k, 100k agents, incremental reads (the
///   default) side by side with full reads;
///   commit-to-emit latency of AgentStatusMonitor at 1k agents over many commits.
/// Usage: source-benchmark [--runs N] [--commits N] [--sizes 1000,10000,100000]

struct Options {
    var runs = 7
    var commits = 250
    var sizes = [1_000, 10_000, 100_000]

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--runs": runs = iterator.next().flatMap(Int.init) ?? runs
            case "--commits": commits = iterator.next().flatMap(Int.init) ?? commits
            case "--sizes":
                sizes = iterator.next().map { $0.split(separator: ",").compactMap { Int($0) } } ?? sizes
            default: break
            }
        }
    }
}

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}

func percentile(_ values: [Double], _ fraction: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))
    return sorted[index]
}

/// CPU time of the calling thread, in milliseconds: unlike wall time, it is not inflated when
/// other processes compete for the cores.
func threadCPUMilliseconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) * 1000 + Double(spec.tv_nsec) / 1e6
}

func format(_ value: Double) -> String { String(format: "%.3f", value) }

let options = Options(CommandLine.arguments)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("source-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

print("# WazuhSource benchmark (runs per size: \(options.runs))")
print("# incremental: the default reader; full: every field of every agent at each read (incrementalReads: false),")
print("# measured in the same runs, alternating which goes first.")
print(
    "agents | reader | read ms (median) | diff ms (median) | read+diff ms (median, min..max) "
        + "| read+diff CPU ms (median) | changes/run | bytes/agent | export bytes/agent"
)

/// One reader's figures over the runs of one fleet size.
final class ReaderFigures {
    let name: String
    let reader: GlobalDatabaseReader
    var previous: AgentSnapshot
    var reads: [Double] = []
    var diffs: [Double] = []
    var totals: [Double] = []
    var cpu: [Double] = []
    var changeCounts: [Int] = []

    init(_ name: String, _ configuration: GlobalDatabaseReader.Configuration) throws {
        self.name = name
        self.reader = GlobalDatabaseReader(configuration: configuration)
        self.previous = try reader.read().snapshot
    }

    func measure() throws {
        let clock = ContinuousClock()
        let cpuStart = threadCPUMilliseconds()
        let start = clock.now
        let current = try reader.read().snapshot
        let afterRead = clock.now
        let changes = ChangeDetector.changes(from: previous, to: current)
        let end = clock.now
        cpu.append(threadCPUMilliseconds() - cpuStart)
        reads.append(milliseconds(afterRead - start))
        diffs.append(milliseconds(end - afterRead))
        totals.append(milliseconds(end - start))
        changeCounts.append(changes.count)
        previous = current
    }

    func report(_ size: Int) {
        let perAgent = Double(previous.approximateByteCount) / Double(previous.count)
        let exportPerAgent = Double(previous.export().count) / Double(previous.count)
        print(
            "\(size) | \(name) | \(format(percentile(reads, 0.5))) | \(format(percentile(diffs, 0.5))) | "
                + "\(format(percentile(totals, 0.5))) (\(format(totals.min() ?? .nan))..\(format(totals.max() ?? .nan))) | "
                + "\(format(percentile(cpu, 0.5))) | \(changeCounts.sorted()[changeCounts.count / 2]) | "
                + "\(format(perAgent)) | \(format(exportPerAgent))"
        )
    }
}

for size in options.sizes {
    let path = "\(directory)/global-\(size).db"
    let simulator = try WazuhSimulator(
        configuration: .init(
            databasePath: path, schema: .wazuh4(minor: 14), agentCount: size, seed: 42, commitIdle: .seconds(3600),
            commitMaxAge: .seconds(3600)),
        now: 1_767_225_600)
    let incremental = try ReaderFigures("incremental", .init(path: path, fullReadInterval: .seconds(3600)))
    let full = try ReaderFigures("full", .init(path: path, incrementalReads: false))
    var random = SimulatorRandom(seed: UInt64(size))
    let ids = simulator.agentIDs
    for run in 0..<options.runs {
        // Every agent's keepalive moves, and 1 % of the fleet changes status, in one commit.
        simulator.now = 1_767_225_600 + Int64(run + 1) * 20
        try simulator.apply(.keepaliveAll)
        for _ in 0..<max(1, size / 100) {
            guard let id = ids.randomElement(using: &random) else { break }
            switch simulator.status(of: id) {
            case "active": try simulator.apply(.stop(agentID: id))
            default: try simulator.apply(.connect(agentID: id))
            }
        }
        try simulator.commit()
        for figures in run.isMultiple(of: 2) ? [incremental, full] : [full, incremental] {
            try figures.measure()
        }
    }
    try simulator.close()
    incremental.report(size)
    full.report(size)
    try? FileManager.default.removeItem(atPath: path)
}

// Commit-to-emit latency: a writer task commits one status change at a time (with a pause so
// commits are not coalesced); the consumer loop takes each update, "persists" it at once, and
// records when each change was emitted against the instant its COMMIT started.
let latencyPath = "\(directory)/latency.db"
let agentCount = 1_000
let commitStarts = Mutex<[Int64: ContinuousClock.Instant]>([:])
let commitEnds = Mutex<[Int64: ContinuousClock.Instant]>([:])
let phase = Mutex(0)  // 0: creating the database, 1: database ready, 2: baseline taken, writer may go
let commits = options.commits
let writer = Task.detached {
    let simulator = try WazuhSimulator(
        configuration: .init(
            databasePath: latencyPath, schema: .wazuh4(minor: 14), agentCount: agentCount, seed: 9,
            commitIdle: .seconds(3600), commitMaxAge: .seconds(3600), initiallyActive: 1),
        now: 1_767_225_600)
    phase.withLock { $0 = 1 }
    while phase.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
    var random = SimulatorRandom(seed: 5)
    for round in 0..<commits {
        // Each round's transition time is unique, so the consumer can match change to commit.
        simulator.now = 1_767_225_600 + 1_000 + Int64(round)
        let id = 1 + (round % agentCount)
        if simulator.status(of: id) == "active" {
            try simulator.apply(.stop(agentID: id))
        } else {
            try simulator.apply(.connect(agentID: id))
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 12...20, using: &random)))
        let start = ContinuousClock.now
        commitStarts.withLock { $0[simulator.now] = start }
        try simulator.commit()
        let end = ContinuousClock.now
        commitEnds.withLock { $0[simulator.now] = end }
    }
    let durations = simulator.commitDurations.map(milliseconds)
    try simulator.close()
    return durations
}
while phase.withLock({ $0 }) < 1 { try await Task.sleep(for: .milliseconds(5)) }
let monitor = AgentStatusMonitor(configuration: .init(databasePath: latencyPath, pollInterval: .seconds(60)))
let baseline = try await monitor.nextUpdate(after: nil)
phase.withLock { $0 = 2 }
var latencies: [Double] = []
var pending: [(time: Int64, emitted: ContinuousClock.Instant)] = []
var snapshot = baseline.snapshot
var updates = 0
var readTransactions: [Double] = []
while latencies.count < commits {
    let update = try await monitor.nextUpdate(after: snapshot)
    let emitted = ContinuousClock.now
    readTransactions.append(milliseconds(monitor.health.lastTransactionDuration ?? .zero))
    snapshot = update.snapshot
    updates += 1
    for change in update.changes {
        if let start = commitStarts.withLock({ $0[change.transitionTime] }) {
            latencies.append(milliseconds(emitted - start))
            pending.append((change.transitionTime, emitted))
        }
    }
}
let commitDurations = try await writer.value
let afterCommit = pending.compactMap { item in
    commitEnds.withLock { $0[item.time] }.map { milliseconds(item.emitted - $0) }
}
print("")
print("# Commit-to-emit latency at \(agentCount) agents, \(commits) commits, \(updates) updates")
print("from COMMIT started (includes the commit's own writes and fsyncs):")
print(
    "p50 \(format(percentile(latencies, 0.5))) ms · p90 \(format(percentile(latencies, 0.9))) ms · "
        + "p99 \(format(percentile(latencies, 0.99))) ms · max \(format(latencies.max() ?? .nan)) ms")
print(
    "from COMMIT returned: p50 \(format(percentile(afterCommit, 0.5))) ms · "
        + "p99 \(format(percentile(afterCommit, 0.99))) ms (negative: emitted before commit() returned)")
print(
    "writer COMMIT duration: p50 \(format(percentile(commitDurations, 0.5))) ms · "
        + "p99 \(format(percentile(commitDurations, 0.99))) ms · max \(format(commitDurations.max() ?? .nan)) ms")
print(
    "read transaction of the emitting read: p50 \(format(percentile(readTransactions, 0.5))) ms · "
        + "p99 \(format(percentile(readTransactions, 0.99))) ms")
let health = monitor.health
print("reads: \(health.successfulReads) ok, \(health.failedReads) failed")
