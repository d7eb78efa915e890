import Foundation
import WazuhSimulator
import WazuhSource

/// The cost to wazuh-db of the socket source, per poll, at 1k, 10k and 100k agents.
///
/// A simulated fleet lives one simulated second per poll: a tenth of the agents send a keepalive
/// (wazuh 4.x: one every 10 s) and one agent in 2000 changes status (stops, starts, becomes active).
/// The same fleet is polled by three readers in turn: the gateway's (incremental, its census every
/// fifth poll), one that counts at every incremental poll (the gateway before the census interval),
/// and one that sweeps at every poll. For each poll: requests, reply bytes, and the CPU time
/// wazuh-db's stand-in (the simulator's socket server, answering from its own open transaction)
/// spent answering, measured on its threads. The gateway's cost per second is then worked out for
/// several poll intervals: one census every 5 s, one full sweep every 60 s, the other polls plain.
/// Usage: wazuhdb-benchmark [--polls N] [--sizes 1000,10000,100000]
struct Options {
    var polls = 120
    var sizes = [1_000, 10_000, 100_000]

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--polls": polls = iterator.next().flatMap(Int.init) ?? polls
            case "--sizes": sizes = iterator.next().map { $0.split(separator: ",").compactMap { Int($0) } } ?? sizes
            default: break
            }
        }
    }
}

/// One poll's cost.
struct PollCost {
    var queries: Int
    var bytes: Int
    var serverCPU: Double
    var serverWall: Double
    var sweep: Bool
    var census: Bool
}

func milliseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1000 + Double(attoseconds) / 1e15
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// The mean: the thread CPU clock ticks coarsely on some kernels, so a median of short polls can read 0.
func mean(_ values: [Double]) -> Double {
    values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
}

func range(_ values: [Double], _ digits: Int = 2) -> String {
    guard let low = values.min(), let high = values.max() else { return "–" }
    return String(format: "%.\(digits)f–%.\(digits)f", low, high)
}

/// One simulated second: keepalives from a tenth of the fleet, a few status changes.
func liveOneSecond(_ simulator: WazuhSimulator, second: Int, agents: Int) throws {
    simulator.now += 1
    let ids = simulator.agentIDs
    let keepalives = max(1, ids.count / 10)
    for offset in 0..<keepalives {
        let id = ids[(second * keepalives + offset) % ids.count]
        // A pending agent's first keepalive makes it active, as in Wazuh.
        if simulator.status(of: id) == "active" || simulator.status(of: id) == "pending" {
            try simulator.apply(.keepalive(agentID: id))
        }
    }
    for offset in 0..<max(1, agents / 2000) {
        let id = ids[(second * 7919 + offset * 104_729) % ids.count]
        switch simulator.status(of: id) {
        case "active": try simulator.apply(.stop(agentID: id))
        case "pending": try simulator.apply(.activate(agentID: id))
        default: try simulator.apply(.connect(agentID: id))
        }
    }
}

func poll(_ reader: WazuhDBSocketReader, _ server: WazuhDBSocketServer, census: Bool) throws -> PollCost {
    let before = server.load
    let read = try reader.read(forceCensus: census)
    let after = server.load
    return PollCost(
        queries: read.queries, bytes: read.bytesReceived,
        serverCPU: milliseconds(after.cpuTime - before.cpuTime),
        serverWall: milliseconds(after.wallTime - before.wallTime),
        sweep: read.sweep, census: read.census)
}

let options = Options(CommandLine.arguments)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wazuhdb-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

print("# wazuh-db socket cost per poll (\(options.polls) polls per size, one simulated second each)")
print("# server CPU: CPU time of the simulator's wdb threads answering (mean, min–max); bytes: median;")
print("# plain = changed rows only; census = census + changed rows (every poll before); sweep = every agent.")
print("# 'gateway at P' = per 60 s: 1 sweep, 11 census polls, the rest plain (% of a core).")
print("")
print("| agents | poll | queries/poll | bytes/poll | server CPU ms/poll | % of a core |")
print("|---:|---|---:|---:|---:|---:|")
for size in options.sizes {
    let simulator = try WazuhSimulator(
        configuration: .init(
            databasePath: "\(directory)/global-\(size).db", agentCount: size, seed: 11, commitIdle: .seconds(3600),
            commitMaxAge: .seconds(3600), initiallyActive: 0.9))
    let server = try simulator.serveWazuhDB(at: "\(directory)/wdb-\(size)")
    defer { server.stop() }
    func reader(census: Duration, sweep: Duration) -> WazuhDBSocketReader {
        WazuhDBSocketReader(
            client: WazuhDBClient(path: server.path, timeout: .seconds(30)), fullSweepInterval: sweep,
            censusInterval: census)
    }
    let gateway = reader(census: .seconds(3600), sweep: .seconds(3600))
    let counting = reader(census: .zero, sweep: .seconds(3600))
    let sweeping = reader(census: .zero, sweep: .zero)
    for reader in [gateway, counting, sweeping] { _ = try reader.read() }
    var plainCosts: [PollCost] = []
    var censusCosts: [PollCost] = []
    var sweepCosts: [PollCost] = []
    var sweepsForced = 0
    for second in 0..<options.polls {
        try liveOneSecond(simulator, second: second, agents: size)
        // Rotate which reader goes first, so none always finds a warmer cache.
        let order = [0, 1, 2].map { ($0 + second) % 3 }
        for which in order {
            switch which {
            case 0:
                let cost = try poll(gateway, server, census: second % 5 == 4)
                if cost.sweep { sweepsForced += 1 } else if !cost.census { plainCosts.append(cost) }
            case 1:
                let cost = try poll(counting, server, census: true)
                if cost.sweep { sweepsForced += 1 } else { censusCosts.append(cost) }
            default: sweepCosts.append(try poll(sweeping, server, census: true))
            }
        }
    }
    func row(_ label: String, _ costs: [PollCost]) {
        let cpu = costs.map(\.serverCPU)
        print(
            "| \(size) | \(label) | \(String(format: "%.1f", median(costs.map { Double($0.queries) }))) "
                + "| \(Int(median(costs.map { Double($0.bytes) }))) | \(String(format: "%.3f", mean(cpu))) (\(range(cpu, 3))) "
                + "| \(String(format: "%.3f", mean(cpu) / 10)) at 1/s |")
    }
    row("plain (changed rows only)", plainCosts)
    row("census + changed rows", censusCosts)
    row("full sweep", sweepCosts)
    let (plain, census, sweep) = (
        mean(plainCosts.map(\.serverCPU)), mean(censusCosts.map(\.serverCPU)), mean(sweepCosts.map(\.serverCPU))
    )
    let (plainBytes, censusBytes, sweepBytes) = (
        median(plainCosts.map { Double($0.bytes) }), median(censusCosts.map { Double($0.bytes) }),
        median(sweepCosts.map { Double($0.bytes) })
    )
    for interval in [1.0, 0.5, 0.25] {
        let polls = 60 / interval
        let cpu = (sweep + 11 * census + (polls - 12) * plain) / 60
        let bytes = (sweepBytes + 11 * censusBytes + (polls - 12) * plainBytes) / polls
        print(
            "| \(size) | gateway at \(Int(interval * 1000)) ms (census 5 s, sweep 60 s) | – | \(Int(bytes)) "
                + "| \(String(format: "%.3f", cpu)) per s | \(String(format: "%.3f", cpu / 10)) |")
    }
    let before = (sweep + 59 * census) / 60
    print(
        "| \(size) | before: census every poll at 1 s | – | – | \(String(format: "%.3f", before)) per s "
            + "| \(String(format: "%.3f", before / 10)) |")
    if sweepsForced > 0 {
        print("| \(size) | (incremental polls that had to sweep: \(sweepsForced)) | | | | |")
    }
    try simulator.close()
}
