// The dashboard's Server-Sent Events cost: CPU of the process that serves them while the dashboard
// state changes at a fixed rate (default 100 transitions per second, each also "delivered"), with
// 0 clients, then with each requested number of `curl -N` clients (separate processes, so only the
// server side is measured). Prints one line per phase: CPU %, events and bytes per client per second.
//
//   cd Benchmarks && swift build -c release --product DashboardSSEBench
//   .build/release/DashboardSSEBench [--rate 100] [--seconds 20] [--clients 1,10,50]
import Foundation
import Gateway
import Logging
import Prometheus
import WazuhSource

#if canImport(Glibc)
    import Glibc
#endif

func option(_ name: String, _ fallback: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return arguments[index + 1]
}

let rate = Int(option("--rate", "100")) ?? 100
let seconds = Int(option("--seconds", "20")) ?? 20
let clientCounts = option("--clients", "1,10,50").split(separator: ",").compactMap { Int($0) }

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

let state = DashboardState(managerNode: "bench", gatewayVersion: GatewayDaemon.version)
var records: [AgentRecord] = []
for id in 1...1000 {
    records.append(
        AgentRecord(
            id: id, name: "agent-\(id)", ip: "10.0.\(id / 256).\(id % 256)",
            status: id % 10 == 0 ? .disconnected : .active,
            lastKeepalive: nil, dateAdd: 1, disconnectionTime: nil, statusCode: nil, nodeName: "node0\(id % 3 + 1)"))
}
state.recordFleet(records)

let (ports, portContinuation) = AsyncStream<Int>.makeStream()
let server = MonitoringServer(
    host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(),
    readiness: ClosureReadinessProbe { ReadinessReport(problems: []) }, dashboard: state,
    logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }), onBound: { portContinuation.yield($0) })
let serverTask = Task { try await server.run() }
func firstPort(_ ports: AsyncStream<Int>) async -> Int? {
    var iterator = ports.makeAsyncIterator()
    return await iterator.next()
}
guard let port = await firstPort(ports) else { fatalError("the server did not start") }

// The producer: `rate` transitions per second, evenly spaced, each acknowledged at once.
let producer = Task {
    var id = 0
    let interval = Duration.nanoseconds(1_000_000_000 / max(rate, 1))
    var next = ContinuousClock.now
    while !Task.isCancelled {
        id += 1
        state.recordTransitions([
            AgentChange(
                kind: .statusChange, agentID: id % 1000 + 1, agentName: "agent-\(id % 1000 + 1)", ipAddress: nil,
                previousStatus: .active, currentStatus: .disconnected, reason: .keepaliveTimeout, statusCode: 4,
                lastKeepalive: nil, nodeName: "node01", dateAdd: 1, transitionTime: Int64(id))
        ])
        state.recordDelivered(count: 1, ackLatencies: [.microseconds(800)])
        next += interval
        try? await Task.sleep(until: next, clock: .continuous)
    }
}

let work = FileManager.default.temporaryDirectory.path + "/dashboard-sse-bench-" + UUID().uuidString
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }
print("rate \(rate) changes/s; \(seconds)s per phase; clients are separate curl -N processes")

for clients in [0] + clientCounts {
    var processes: [Process] = []
    for index in 0..<clients {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = [
            "-sN", "--max-time", "\(seconds + 2)", "-o", "\(work)/client-\(clients)-\(index).txt",
            "http://127.0.0.1:\(port)/dashboard/events",
        ]
        try process.run()
        processes.append(process)
    }
    while state.subscriberCount < clients { try await Task.sleep(for: .milliseconds(20)) }
    try await Task.sleep(for: .seconds(1))
    let cpuStart = cpuSeconds()
    let wallStart = ContinuousClock.now
    try await Task.sleep(for: .seconds(seconds))
    let cpu = cpuSeconds() - cpuStart
    let wall = ContinuousClock.now - wallStart
    let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    for process in processes { process.terminate() }
    for process in processes { process.waitUntilExit() }
    var events = 0
    var bytes = 0
    for index in 0..<clients {
        let data = FileManager.default.contents(atPath: "\(work)/client-\(clients)-\(index).txt") ?? Data()
        bytes += data.count
        events += String(decoding: data, as: UTF8.self).components(separatedBy: "event: snapshot").count - 1
    }
    let perClient = Double(max(clients, 1))
    let span = wallSeconds + 1
    print(
        String(
            format: "clients %3d: server CPU %5.1f%%  events/s per client %5.1f  KiB/s per client %7.1f",
            clients, cpu / wallSeconds * 100, Double(events) / perClient / span,
            Double(bytes) / 1024 / perClient / span))
}
print("snapshot JSON bytes (50 events, 3 nodes): \(state.snapshot().json().count)")
producer.cancel()
state.close()
serverTask.cancel()
