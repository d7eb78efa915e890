import Foundation
import ReliabilityChecker
import Synchronization
import Testing
import WazuhSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// The gateway child of a reliability run: started, SIGKILLed, SIGTERMed and started again by the
/// fault injector while the test's driver reads what it delivered. Every child is stopped by ``stopAll()``.
final class GatewaySlot: Sendable {
    typealias GatewayProcess = DaemonExecutableTests.GatewayProcess

    let configPath: String
    /// A command the binary runs through (e.g. `setpriv` to drop root); empty: run directly.
    let launcher: [String]
    private let starts = Atomic<Int>(0)
    private let current = Mutex<GatewayProcess?>(nil)
    private let peakKilobytes = Atomic<Int>(0)
    private let lastOutput = Mutex<String>("")

    init(configPath: String, launcher: [String] = []) {
        self.configPath = configPath
        self.launcher = launcher
    }

    var process: GatewayProcess? { self.current.withLock { $0 } }

    /// Starts a new child (after the previous one exited).
    @discardableResult
    func start() throws -> GatewayProcess {
        let process = try GatewayProcess(
            configPath: self.configPath, launcher: self.launcher, extraEnvironment: self.profilingEnvironment())
        self.current.withLock { $0 = process }
        return process
    }

    /// With `RELIABILITY_HEAPTRACK_DIR=DIR`, each child records its heap with heaptrack's preload library
    /// into `DIR/gateway-N.raw` (same process, so signals and RSS sampling are unchanged); interpret with
    /// `heaptrack_interpret < raw | zstd > gateway.zst` and read with `heaptrack_print`.
    private func profilingEnvironment() -> [String: String] {
        guard let directory = ProcessInfo.processInfo.environment["RELIABILITY_HEAPTRACK_DIR"] else { return [:] }
        let number = self.starts.add(1, ordering: .relaxed).newValue
        return [
            "LD_PRELOAD": "/usr/lib/heaptrack/libheaptrack_preload.so",
            "DUMP_HEAPTRACK_OUTPUT": "\(directory)/gateway-\(number).raw",
        ]
    }

    /// The current resident set size (`VmRSS`) of the running child, in MiB (0 when unknown).
    var residentMiB: Double { self.statusMiB("VmRSS:") }

    /// The anonymous part of the resident set (`RssAnon`: heap, arenas, stacks; not the binary and
    /// libraries, which a debug build makes large), in MiB.
    var anonymousMiB: Double { self.statusMiB("RssAnon:") }

    private func statusMiB(_ field: String) -> Double {
        guard let pid = self.process?.process.processIdentifier,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return Double(kilobytes) / 1024
    }

    /// The highest resident set size (`VmHWM`) any child reached, sampled before each signal, in MiB.
    var peakResidentMiB: Double { Double(self.peakKilobytes.load(ordering: .relaxed)) / 1024 }

    /// Samples the running child's peak RSS.
    func samplePeakRSS() {
        guard let pid = self.process?.process.processIdentifier,
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return }
        self.peakKilobytes.max(kilobytes, ordering: .relaxed)
    }

    /// SIGKILLs the child and waits for it to be gone.
    func kill() async throws {
        guard let process = self.process else { return }
        self.samplePeakRSS()
        process.signal(SIGKILL)
        _ = try await process.waitForExit(within: .seconds(20))
        self.keepOutput(of: process)
    }

    /// SIGTERMs the child; returns its exit status and how long it took to exit.
    func terminate(within limit: Duration) async throws -> (status: Int32, took: Duration) {
        let process = try #require(self.process)
        self.samplePeakRSS()
        let signalled = ContinuousClock.now
        process.signal(SIGTERM)
        let status = try await process.waitForExit(within: limit)
        self.keepOutput(of: process)
        return (status, ContinuousClock.now - signalled)
    }

    /// The standard error of the current (or last) child, for failure messages.
    var stderrTail: String {
        (self.process?.stderr ?? self.lastOutput.withLock { $0 }).suffix(3000).description
    }

    private func keepOutput(of process: GatewayProcess) {
        let text = String(process.stderr.suffix(6000))
        self.lastOutput.withLock { $0 = text }
    }

    /// Makes sure no child outlives the test.
    func stopAll() {
        self.process?.forceStop()
    }
}

/// What the fault injector did to a run.
struct FaultCounts: Sendable {
    var kills = 0
    var natsRestarts = 0
    var gracefulStops: [(status: Int32, took: Duration)] = []
}

/// Kills and restarts the gateway at random moments, now and then restarts nats-server, and once in the
/// middle stops the gateway gracefully (SIGTERM) instead of killing it.
struct FaultInjector: Sendable {
    var slot: GatewaySlot
    var restartNATS: @Sendable (_ killing: Bool) async throws -> Void
    var interruptions: Int
    var natsRestartEvery: Int
    var shutdownTimeout: Duration
    var seed: UInt64

    func run() async throws -> FaultCounts {
        var random = SimulatorRandom(seed: seed)
        var counts = FaultCounts()
        for round in 1...interruptions {
            // Up-times from "killed during start-up" to "well into delivery".
            try await Task.sleep(for: .milliseconds(Int64.random(in: 150...1800, using: &random)))
            if round == interruptions / 2 {
                counts.gracefulStops.append(try await slot.terminate(within: shutdownTimeout + .seconds(20)))
            } else {
                try await slot.kill()
                counts.kills += 1
            }
            if natsRestartEvery > 0, round % natsRestartEvery == 0 {
                try await restartNATS(round % (natsRestartEvery * 2) == 0)
                counts.natsRestarts += 1
            }
            try slot.start()
        }
        return counts
    }
}

extension GatewaySlot {
    /// Runs a reliability scenario: `body`, then every gateway of the slot stopped, `reader` closed (closing twice
    /// is harmless) and every server of `servers` stopped (each stop awaited), also when `body` throws.
    func running(
        servers: [NATSServerProcess], closing reader: StreamReader? = nil, _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch {
            self.stopAll()
            await reader?.close()
            for server in servers { await server.stop() }
            throw error
        }
        self.stopAll()
        await reader?.close()
        for server in servers { await server.stop() }
    }
}
