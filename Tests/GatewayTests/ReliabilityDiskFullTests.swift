import Foundation
import ReliabilityChecker
import Testing
import WazuhSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// The outbox's file system fills up under the real binary: the outbox lives on a small tmpfs, a filler
/// file takes the rest of it while the storm goes on. Detection must pause with a clear error (log,
/// `detection_paused`, `outbox_write_errors_total`), `/readyz` must say why, and once the filler is
/// deleted the same process must resume by itself — with nothing journaled lost and no transition
/// skipped over the whole run, judged by the independent checker against the simulator's ground truth.
@Suite(.serialized) struct ReliabilityDiskFullTests {
    static let paused = "wazuh_nats_gateway_detection_paused"
    static let writeErrors = "wazuh_nats_gateway_outbox_write_errors_total"

    static func metric(_ name: String, port: Int) async throws -> Double {
        MetricsText.sum(try await LoopbackHTTP.get(port: port, path: "/metrics").body, name: name)
    }

    @Test func fullOutboxDiskPausesDetectionAndRecoversByItself() async throws {
        let seed = ReliabilityStormTests.seed
        let harness = try DaemonHarness()
        let mount = try SizeLimitedMount(path: harness.directory + "/outbox-fs", megabytes: 16)
        defer { mount.unmount() }
        try await harness.server.start()
        let (simulator, truthPath) = try ReliabilityVerdict.fleet(harness, seed: seed)
        let configPath = try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s")
        let outboxPath = mount.path + "/outbox.db"
        let yaml = try String(contentsOfFile: configPath, encoding: .utf8)
            .replacingOccurrences(of: harness.configuration.outbox.path, with: outboxPath)
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        let slot = GatewaySlot(configPath: configPath)
        let reader = StreamReader(
            urls: harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        try await slot.running(servers: [harness.server], closing: reader) {
            let (gateway, port) = try await ReliabilityVerdict.startReady(slot)
            let driver = ReliabilityStormDriver(simulator: simulator, reader: reader, seed: seed)
            try await ReliabilityDatabaseTroubleTests.burst(driver, steps: 40)
            try await ReliabilityDatabaseTroubleTests.settle(driver, "before the disk fills")

            // The file system fills; the storm goes on until a cycle cannot be journaled.
            let filler = try mount.fill()
            var steps = 0
            try await eventually("detection paused", timeout: .seconds(90), poll: .milliseconds(50)) {
                await driver.observe()
                try driver.step()
                steps += 1
                return try await Self.metric(Self.paused, port: port) == 1
            }
            try driver.finish()
            let readiness = try await LoopbackHTTP.get(port: port, path: "/readyz")
            #expect(readiness.status == 503)
            #expect(readiness.body.contains("outbox: detection paused"), "readyz: \(readiness.body)")
            #expect(readiness.body.contains("file system is full"), "readyz: \(readiness.body)")
            #expect(try await Self.metric(Self.writeErrors, port: port) >= 1)
            #expect(gateway.stderr.contains("journaling detected changes failed; detection paused"))
            #expect(gateway.stderr.contains("SQLITE_FULL"))
            // While paused, more changes are committed: they must wait, not be skipped.
            for _ in 0..<10 {
                await driver.observe()
                try driver.step()
                try await Task.sleep(for: .milliseconds(40))
            }
            try driver.finish()
            let failedAttempts = try await Self.metric(Self.writeErrors, port: port)
            try await eventually("a retry failed while the disk was full", timeout: .seconds(30)) {
                try await Self.metric(Self.writeErrors, port: port) > failedAttempts
            }

            // Space returns: the same process resumes by itself.
            try FileManager.default.removeItem(atPath: filler)
            try await eventually("detection resumed", timeout: .seconds(60), poll: .milliseconds(100)) {
                try await Self.metric(Self.paused, port: port) == 0
            }
            try await eventually("the gateway ready again", timeout: .seconds(30)) {
                try await LoopbackHTTP.get(port: port, path: "/readyz").status == 200
            }
            try await ReliabilityDatabaseTroubleTests.settle(driver, "after space returned")
            try await ReliabilityDatabaseTroubleTests.burst(driver, steps: 20)
            try await ReliabilityDatabaseTroubleTests.settle(driver, "at the end")
            #expect(gateway.process.isRunning, "the gateway restarted or died: \(slot.stderrTail)")
            #expect(gateway.stderr.contains("journaling resumed; detection continues"))

            let errors = try await Self.metric(Self.writeErrors, port: port)
            try await ReliabilityVerdict.conclude(
                "disk-full", seed: seed, harness: harness, truthPath: truthPath, slot: slot, reader: reader,
                extra: [
                    ("steps_until_paused", "\(steps)"), ("failed_journal_attempts", "\(Int(errors))"),
                    ("longest_gap_ms", "\(ReliabilityStormTests.milliseconds(driver.longestGap))"),
                ])
        }
    }
}

/// A tmpfs of a fixed size mounted for one test (the tests run as root here and in CI), and a filler
/// file that takes all of its free space. ``unmount()`` must run even when the test fails.
final class SizeLimitedMount: Sendable {
    let path: String

    init(path: String, megabytes: Int) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let status = try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m,mode=0755", "tmpfs", path])
        try #require(status == 0, "mounting a tmpfs needs root (the reliability tests run as root)")
    }

    /// Writes a file until the file system refuses with ENOSPC; returns its path.
    func fill() throws -> String {
        let filler = self.path + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0, "cannot create \(filler): errno \(errno)")
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0xA5, count: 64 * 1024)
        var size = chunk.count
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, size) }
            if written < 0 {
                try #require(errno == ENOSPC, "filling \(filler): errno \(errno)")
                if size == 1 { break }
                size = max(1, size / 2)
            }
        }
        return filler
    }

    func unmount() {
        if (try? Self.run("/bin/umount", [self.path])) != 0 {
            _ = try? Self.run("/bin/umount", ["-l", self.path])
        }
    }

    private static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
