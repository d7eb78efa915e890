import Foundation
import WazuhSimulator
import WazuhSource

/// The cost to wazuh-db of the socket source, per poll, at 1k, 10k and 100k agents.
///
/// A simulated fleet lives one simulated second per poll: a tenth of the agents send a keepalive
/// (wazuh 4.x: one every 10 s) and one agent in 2000 changes status (stops, starts, becomes active).
/// The same fleet is polled by two readers in turn: the gateway's (incremental, with its full sweep
/// once every 60 polls at the default 1 s poll / 60 s sweep) and one that sweeps at every poll.
/// For each poll: requests, reply bytes, and the CPU time wazuh-db's stand-in (the simulator's socket
/// server, answering from its own open transaction) spent answering, measured on its threads.
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

func poll(_ reader: WazuhDBSocketReader, _ server: WazuhDBSocketServer) throws -> PollCost {
    let before = server.load
    let read = try reader.read()
    let after = server.load
    return PollCost(
        queries: read.queries, bytes: read.bytesReceived,
        serverCPU: milliseconds(after.cpuTime - before.cpuTime), serverWall: milliseconds(after.wallTime - before.wallTime),
        sweep: read.sweep)
}

let options = Options(CommandLine.arguments)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wazuhdb-bench-\(UUID().uuidString)").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: directory) }

print("# wazuh-db socket cost per poll (\(options.polls) polls per size, one simulated second each)")
print("# server CPU: CPU time of the simulator's wdb threads answering (median, min–max);")
print("# % of a core at 1 poll/s; 'gateway' = 59 incremental polls + 1 full sweep per minute.")
print("")
print("| agents | poll | queries/poll | bytes/poll | server CPU ms/poll | % of a core at 1 poll/s |")
print("|---:|---|---:|---:|---:|---:|")
for size in options.sizes {
    let simulator = try WazuhSimulator(
        configuration: .init(
            databasePath: "\(directory)/global-\(size).db", agentCount: size, seed: 11, commitIdle: .seconds(3600),
            commitMaxAge: .seconds(3600), initiallyActive: 0.9))
    let server = try simulator.serveWazuhDB(at: "\(directory)/wdb-\(size)")
    defer { server.stop() }
    let incremental = WazuhDBSocketReader(
        client: WazuhDBClient(path: server.path, timeout: .seconds(30)), fullSweepInterval: .seconds(3600))
    let sweeping = WazuhDBSocketReader(
        client: WazuhDBClient(path: server.path, timeout: .seconds(30)), fullSweepInterval: .zero)
    _ = try incremental.read()
    _ = try sweeping.read()
    var incrementalCosts: [PollCost] = []
    var sweepCosts: [PollCost] = []
    var sweepsForced = 0
    for second in 0..<options.polls {
        try liveOneSecond(simulator, second: second, agents: size)
        // Alternate which reader goes first, so neither always finds a warmer cache.
        if second.isMultiple(of: 2) {
            incrementalCosts.append(try poll(incremental, server))
            sweepCosts.append(try poll(sweeping, server))
        } else {
            sweepCosts.append(try poll(sweeping, server))
            incrementalCosts.append(try poll(incremental, server))
        }
        if incrementalCosts.last?.sweep == true { sweepsForced += 1 }
    }
    let steady = incrementalCosts.filter { !$0.sweep }
    func row(_ label: String, _ costs: [PollCost], share: Double) {
        let cpu = costs.map(\.serverCPU)
        print(
            "| \(size) | \(label) | \(String(format: "%.1f", median(costs.map { Double($0.queries) }))) "
                + "| \(Int(median(costs.map { Double($0.bytes) }))) | \(String(format: "%.3f", median(cpu))) (\(range(cpu, 3))) "
                + "| \(String(format: "%.3f", median(cpu) * share / 10)) |")
    }
    row("incremental", steady, share: 1)
    row("full sweep", sweepCosts, share: 1)
    let gatewayCPU = (median(steady.map(\.serverCPU)) * 59 + median(sweepCosts.map(\.serverCPU))) / 60
    print(
        "| \(size) | gateway (59 incremental + 1 sweep per 60 s) | – | "
            + "\(Int((median(steady.map { Double($0.bytes) }) * 59 + median(sweepCosts.map { Double($0.bytes) })) / 60)) "
            + "| \(String(format: "%.3f", gatewayCPU)) | \(String(format: "%.3f", gatewayCPU / 10)) |")
    if sweepsForced > 0 {
        print("| \(size) | (incremental polls that had to sweep: \(sweepsForced) of \(options.polls)) | | | | |")
    }
    try simulator.close()
}
