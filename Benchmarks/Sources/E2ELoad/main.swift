import Foundation
import WazuhSimulator

// The simulated manager of the end-to-end suite (`Benchmarks/suite.sh`): a global.db with N agents,
// keepalive churn committed every second, and status changes at a fixed rate; it also samples the
// gateway's CPU and memory from /proc over each phase, so the phases and the samples share one clock.
//
//   e2e-load --db PATH --agents N --truth PATH --start-file PATH
//            [--idle-seconds 15] [--warmup-seconds 5] [--seconds 20] [--rate 10] [--seed 1]
//
// 1. Creates the fleet (committed, every agent active, so only this program's changes change a status)
//    and prints `ready`.
// 2. Waits for `--start-file` to hold the gateway's pid (the suite writes it once the gateway runs).
// 3. Warm-up: keepalive churn only (the simulator's `keepalive` step every 100 ms: the agents whose
//    keepalive is due, 4.14's 20 s notify interval; commits after 200 ms idle / 1 s at most, so about
//    one COMMIT per second).
// 4. Phase `idle`: the same churn, no status change; the gateway's CPU and RSS are sampled.
// 5. Phase `load`: the same churn plus RATE status changes per second (a random agent: active ->
//    disconnected, disconnected -> pending, pending -> active); sampled again.
// 6. Commits what is open and prints one JSON line: per phase wall seconds, gateway CPU seconds, RSS
//    median and max (KiB), and the gateway's VmHWM at the end.
//
// Every committed status change is in the ground-truth log (`--truth`, `committed_at_ms` = right after
// COMMIT returned); the suite's subscriber pairs it with the event's receipt.

struct Arguments {
    var database = ""
    var agents = 1000
    var truth = ""
    var startFile = ""
    var idleSeconds = 15.0
    var warmupSeconds = 5.0
    var seconds = 20.0
    var rate = 10.0
    var seed: UInt64 = 1

    init(_ list: [String]) {
        var index = 1
        func value() -> String {
            index += 1
            guard index < list.count else { fatalError("missing value for \(list[index - 1])") }
            return list[index]
        }
        while index < list.count {
            switch list[index] {
            case "--db": database = value()
            case "--agents": agents = Int(value()) ?? agents
            case "--truth": truth = value()
            case "--start-file": startFile = value()
            case "--idle-seconds": idleSeconds = Double(value()) ?? idleSeconds
            case "--warmup-seconds": warmupSeconds = Double(value()) ?? warmupSeconds
            case "--seconds": seconds = Double(value()) ?? seconds
            case "--rate": rate = Double(value()) ?? rate
            case "--seed": seed = UInt64(value()) ?? seed
            default: fatalError("unknown argument \(list[index])")
            }
            index += 1
        }
    }
}

let arguments = Arguments(CommandLine.arguments)
let simulator = try WazuhSimulator(
    configuration: .init(
        databasePath: arguments.database, agentCount: arguments.agents, seed: arguments.seed,
        commitIdle: .milliseconds(200), commitMaxAge: .seconds(1), initiallyActive: 1.0,
        groundTruthLogPath: arguments.truth))
let ids = simulator.agentIDs.filter { $0 > 0 }
FileHandle.standardOutput.write(Data("ready \(ids.count)\n".utf8))

var gatewayPID: Int32 = 0
while gatewayPID == 0 {
    if let text = try? String(contentsOfFile: arguments.startFile, encoding: .utf8),
        let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    {
        gatewayPID = pid
    } else {
        try await Task.sleep(for: .milliseconds(50))
    }
}
let sampler = ProcessSampler(pid: gatewayPID)
var generator = SystemRandomNumberGenerator()

/// One status change of a random agent, so the fleet keeps its mix: active -> disconnected (stopped),
/// disconnected -> pending, pending -> active.
@MainActor
func changeOneStatus() throws {
    guard let id = ids.randomElement(using: &generator) else { return }
    switch simulator.status(of: id) {
    case "active": _ = try simulator.apply(.stop(agentID: id))
    case "pending": _ = try simulator.apply(.activate(agentID: id))
    default: _ = try simulator.apply(.connect(agentID: id))
    }
}

/// Runs the churn (and `rate` changes per second) for `seconds`, sampling the gateway every 500 ms.
@MainActor
func phase(_ name: String, seconds: Double, rate: Double, sample: Bool) async throws -> PhaseResult {
    let clock = ContinuousClock()
    let start = clock.now
    let end = start + .milliseconds(Int64(seconds * 1000))
    let startMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
    let cpuBefore = sampler.cpuSeconds()
    var budget = 0.0
    var changes = 0
    var lastTick = start
    var nextSample = start
    var rss: [Int] = []
    while clock.now < end {
        simulator.nowMilliseconds = max(simulator.nowMilliseconds, Int64(Date().timeIntervalSince1970 * 1000))
        try simulator.step(.keepalive)
        let now = clock.now
        budget += rate * Double((now - lastTick).components.attoseconds) / 1e18
        budget += rate * Double((now - lastTick).components.seconds)
        lastTick = now
        while budget >= 1 {
            try changeOneStatus()
            changes += 1
            budget -= 1
        }
        try simulator.commitIfDue()
        if sample, clock.now >= nextSample {
            if let value = sampler.residentKiB() { rss.append(value) }
            nextSample = nextSample + .milliseconds(500)
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    let wall =
        Double((clock.now - start).components.seconds) + Double((clock.now - start).components.attoseconds) / 1e18
    return PhaseResult(
        name: name, wallSeconds: wall, cpuSeconds: sampler.cpuSeconds() - cpuBefore, residentKiB: rss,
        changes: changes, startMilliseconds: startMilliseconds,
        endMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
}

_ = try await phase("warmup", seconds: arguments.warmupSeconds, rate: 0, sample: false)
let idle = try await phase("idle", seconds: arguments.idleSeconds, rate: 0, sample: true)
let load = try await phase("load", seconds: arguments.seconds, rate: arguments.rate, sample: true)
try simulator.commit()
let hwm = sampler.status("VmHWM") ?? 0
let report: [String: Any] = [
    "agents": ids.count, "rate": arguments.rate, "hwm_kib": hwm, "commits": simulator.commits,
    "idle": idle.json, "load": load.json,
]
let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
FileHandle.standardOutput.write(data + Data([0x0A]))
try simulator.close()
