import Foundation
import NATSClient
import NATSTestSupport
import Outbox
import Synchronization
import Testing
import WazuhSimulator

@testable import Gateway

#if canImport(Glibc)
    import Glibc
#endif

/// `wazuh-nats-gateway run` as a child process, the way systemd and the demo run it.
/// Uses the executable `swift build` produced (``BuiltExecutable``); builds nothing.
struct DaemonExecutableTests {
    /// A running `run --config FILE` child; standard error is collected line by line.
    final class GatewayProcess: Sendable {
        let process: Process
        private let output = TextBuffer()
        private let pipe = Pipe()

        /// - Parameters:
        ///   - launcher: a program and its arguments that run the gateway (e.g. `setpriv …`), followed by
        ///     the gateway's path; empty runs the gateway directly.
        ///   - extraEnvironment: variables added to the child's environment.
        init(configPath: String, launcher: [String] = [], extraEnvironment: [String: String] = [:]) throws {
            let process = Process()
            let gateway = BuiltExecutable.path
            process.executableURL = URL(fileURLWithPath: launcher.first ?? gateway)
            process.arguments =
                (launcher.isEmpty ? [] : Array(launcher.dropFirst()) + [gateway]) + ["run", "--config", configPath]
            var environment = ProcessInfo.processInfo.environment.filter {
                !$0.key.hasPrefix("WAZUH_NATS_GATEWAY_")
            }
            environment["LANG"] = "C.UTF-8"
            environment.merge(extraEnvironment) { _, added in added }
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = self.pipe
            self.process = process
            let output = self.output
            self.pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                output.append(String(decoding: data, as: UTF8.self))
            }
            try process.run()
        }

        var stderr: String { self.output.text }

        /// The monitoring port the daemon logged once it listened.
        func monitoringPort() async throws -> Int {
            var port: Int?
            try await eventually("the daemon to log its HTTP port", timeout: .seconds(20)) {
                port = Self.loggedPort(in: self.stderr)
                return port != nil || !self.process.isRunning
            }
            return try #require(port, "daemon exited early: \(self.stderr.suffix(2000))")
        }

        static func loggedPort(in text: String) -> Int? {
            for line in text.split(separator: "\n") where line.contains("monitoring server listening") {
                if let range = line.range(of: "\"http.port\":\""),
                    let end = line[range.upperBound...].firstIndex(of: "\"")
                {
                    return Int(line[range.upperBound..<end])
                }
            }
            return nil
        }

        func signal(_ number: Int32) {
            Glibc.kill(self.process.processIdentifier, number)
        }

        /// Waits (bounded) for the process to exit and returns its exit status.
        func waitForExit(within limit: Duration) async throws -> Int32 {
            try await eventually("the gateway process to exit", timeout: limit, poll: .milliseconds(20)) {
                !self.process.isRunning
            }
            self.pipe.fileHandleForReading.readabilityHandler = nil
            return self.process.terminationStatus
        }

        /// Makes sure no child outlives a failed test.
        func forceStop() {
            if self.process.isRunning {
                Glibc.kill(self.process.processIdentifier, SIGKILL)
                self.process.waitUntilExit()
            }
        }
    }

    /// The YAML configuration of `harness`, as `run` reads it from a file.
    static func writeConfiguration(_ harness: DaemonHarness, shutdownTimeout: String) throws -> String {
        let configuration = harness.configuration
        let yaml = """
            wazuh:
              db_path: "\(harness.databasePath)"
              poll_interval: "200ms"
              manager_node: "\(configuration.wazuh.managerNode)"
            nats:
              url: "\(harness.server.url)"
              subject_prefix: "wazuh"
              max_reconnects: -1
              reconnect_delay: "100ms"
              request_timeout: "2s"
            security:
              signing_key_path: "\(harness.signingKeyPath)"
              encrypt_messages: false
            outbox:
              path: "\(configuration.outbox.path)"
            delivery:
              shutdown_timeout: "\(shutdownTimeout)"
              backoff_base: "50ms"
              backoff_max: "500ms"
              breaker_cooldown: "500ms"
            monitoring:
              enable_metrics: true
              metrics_address: "127.0.0.1"
              metrics_port: 0
              log_level: "info"
              heartbeat_interval: "1s"

            """
        let path = harness.directory + "/gateway.yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Waits until `/metrics` shows at least `count` detected events in total.
    static func waitForDetected(_ count: Int, port: Int, timeout: Duration = .seconds(20))
        async throws
    {
        try await eventually("\(count) detected events", timeout: timeout, poll: .milliseconds(100)) {
            let reply = try await LoopbackHTTP.get(port: port, path: "/metrics")
            return MetricsText.sum(reply.body, name: "wazuh_nats_gateway_events_detected_total")
                >= Double(count)
        }
    }

    /// Opens the outbox the child left behind (after it exited).
    static func pendingInOutbox(_ harness: DaemonHarness) throws -> Int {
        let store = try OutboxStore(path: harness.configuration.outbox.path)
        defer { try? store.close() }
        return try store.pendingCount()
    }

    @Test func sigtermDrainsEveryJournaledEventAndExitsZero() async throws {
        let harness = try DaemonHarness()
        try await harness.server.start()
        let simulator = try harness.makeSimulator(agentCount: 2000)
        let configPath = try Self.writeConfiguration(harness, shutdownTimeout: "10s")
        let gateway = try GatewayProcess(configPath: configPath)
        defer { gateway.forceStop() }
        let port = try await gateway.monitoringPort()
        try await eventually("ready", timeout: .seconds(20)) {
            try await LoopbackHTTP.get(port: port, path: "/readyz").status == 200
        }
        // The storm disconnects every active and pending agent at once.
        let active = simulator.agents(withStatus: "active").count + simulator.agents(withStatus: "pending").count
        try simulator.apply(.restartStorm)
        try simulator.commit()
        try await Self.waitForDetected(active, port: port)

        let signalled = ContinuousClock.now
        gateway.signal(SIGTERM)
        let status = try await gateway.waitForExit(within: .seconds(15))
        #expect(status == 0, "stderr: \(gateway.stderr.suffix(3000))")
        #expect(ContinuousClock.now - signalled < .seconds(12))
        #expect(gateway.stderr.contains("termination signal received"))

        #expect(try Self.pendingInOutbox(harness) == 0)
        let stored = try await harness.storedMessages()
        let ids = stored.compactMap(\.messageID).filter { !$0.contains("heartbeat") }
        #expect(Set(ids).count == ids.count, "a message is in the stream twice")
        let statusEvents = stored.filter { $0.subject.hasSuffix(".status") }.compactMap(\.event)
        #expect(
            Set(statusEvents.filter { $0.currentStatus == "Disconnected" }.map(\.agentID)).count == active
        )
        await harness.server.stop()
    }

    @Test func sigtermWithNATSDownKeepsTheEventsForTheNextStart() async throws {
        let harness = try DaemonHarness()
        let simulator = try harness.makeSimulator(agentCount: 20)
        let configPath = try Self.writeConfiguration(harness, shutdownTimeout: "2s")
        let first = try GatewayProcess(configPath: configPath)
        defer { first.forceStop() }
        let port = try await first.monitoringPort()
        // The source is read (a baseline) although NATS is down; /readyz names NATS.
        try await eventually("the baseline read", timeout: .seconds(20)) {
            let reply = try await LoopbackHTTP.get(port: port, path: "/readyz")
            return reply.status == 503 && reply.body.contains("nats: disconnected")
                && !reply.body.contains("source")
        }
        let stopped = Array(simulator.agents(withStatus: "active").prefix(5))
        for id in stopped {
            try simulator.apply(.stop(agentID: id))
        }
        try simulator.commit()
        try await Self.waitForDetected(stopped.count, port: port)

        let signalled = ContinuousClock.now
        first.signal(SIGTERM)
        #expect(
            try await first.waitForExit(within: .seconds(10)) == 0, "stderr: \(first.stderr.suffix(3000))"
        )
        #expect(ContinuousClock.now - signalled < .seconds(6))
        let journaled = try Self.pendingInOutbox(harness)
        #expect(journaled >= stopped.count * 2)

        try await harness.server.start()
        let second = try GatewayProcess(configPath: configPath)
        defer { second.forceStop() }
        _ = try await second.monitoringPort()
        try await eventually("the journaled events delivered by the next start", timeout: .seconds(20)) {
            let stored = try await harness.storedMessages()
            let disconnected = Set(
                stored.filter { $0.subject.hasSuffix(".disconnected") }.compactMap(\.event?.agentID))
            return disconnected.count == stopped.count
        }
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(within: .seconds(10)) == 0)
        #expect(try Self.pendingInOutbox(harness) == 0)
        await harness.server.stop()
    }

    @Test func secondSignalExitsAtOnce() async throws {
        let harness = try DaemonHarness()
        let simulator = try harness.makeSimulator(agentCount: 20)
        // A long drain that cannot finish: NATS is down.
        let configPath = try Self.writeConfiguration(harness, shutdownTimeout: "60s")
        let gateway = try GatewayProcess(configPath: configPath)
        defer { gateway.forceStop() }
        let port = try await gateway.monitoringPort()
        try await eventually("the baseline read", timeout: .seconds(20)) {
            !(try await LoopbackHTTP.get(port: port, path: "/readyz").body.contains("source"))
        }
        let id = try #require(simulator.agents(withStatus: "active").first)
        try simulator.apply(.stop(agentID: id))
        try simulator.commit()
        try await Self.waitForDetected(1, port: port)

        gateway.signal(SIGTERM)
        try await eventually("the first signal to be logged") {
            gateway.stderr.contains("termination signal received")
        }
        #expect(gateway.process.isRunning)
        let second = ContinuousClock.now
        gateway.signal(SIGTERM)
        let status = try await gateway.waitForExit(within: .seconds(5))
        #expect(status == 128 + SIGTERM)
        #expect(ContinuousClock.now - second < .seconds(2))
        #expect(gateway.stderr.contains("second termination signal"))
        #expect(try Self.pendingInOutbox(harness) >= 2)
    }
}

/// Reads sums of Prometheus series from `/metrics` text.
enum MetricsText {
    /// The sum of every sample of `name` (all label sets).
    static func sum(_ text: String, name: String) -> Double {
        var total = 0.0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2 else { continue }
            let series = parts[0]
            guard series == name || series.hasPrefix(name + "{") else { continue }
            total += Double(parts[1]) ?? 0
        }
        return total
    }
}

/// Text appended from a pipe's reading thread and read from tests.
final class TextBuffer: Sendable {
    private let storage = Mutex<String>("")

    func append(_ text: String) {
        self.storage.withLock { $0 += text }
    }

    var text: String { self.storage.withLock { $0 } }
}
