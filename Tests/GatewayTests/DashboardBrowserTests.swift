import Foundation
import Testing
import WazuhSimulator

@testable import Gateway

/// Headless Chromium and the DevTools driver (`Tests/Browser/dashboard_probe.py`), when installed.
enum BrowserTools {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let python: String? = ProcessInfo.processInfo.environment["PATH"].flatMap { path in
        path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
    static var available: Bool { chromium != nil && python != nil }
    static let driver = RepositoryFiles.root + "/Tests/Browser/dashboard_probe.py"
    /// Where the screenshot and the probe's summary go (kept as CI artifacts).
    static let artifacts =
        ProcessInfo.processInfo.environment["DASHBOARD_ARTIFACTS_DIR"] ?? RepositoryFiles.root + "/.build/artifacts"
}

/// The dashboard as a browser shows it, against a real daemon watching a simulated manager and
/// delivering to a real nats-server. Skipped, saying why, when Chromium or Python is missing
/// (`make deps` installs Chromium).
@Suite(.serialized)
struct DashboardBrowserTests {
    static let hostileNames = [
        "<img src=x onerror=\"window.__pwned=1;document.title='pwned'\">",
        "</script><script>window.__pwned=2</script>",
        "\"><svg onload=window.__pwned=3>",
    ]

    @Test(
        .enabled(if: BrowserTools.available, "headless Chromium or python3 is not installed (make deps installs them)"),
        .timeLimit(.minutes(4)))
    func theBrowserShowsTheFleetAndLiveEventsAndRunsNoAgentName() async throws {
        let harness = try DaemonHarness()
        try await harness.server.start()
        let simulator = try harness.makeSimulator(agentCount: 20)
        let daemon = harness.startDaemon()
        var driver: Process?
        do {
            let port = try await daemon.port()
            try await eventually("the baseline fleet and NATS on the dashboard", timeout: .seconds(60)) {
                let snapshot = daemon.daemon.dashboard.snapshot()
                return snapshot.fleet.total == 20 && snapshot.nats.connected && snapshot.nats.server != nil
            }
            let marker = harness.directory + "/rendered.json"
            let stdout = harness.directory + "/probe.out"
            let stderr = harness.directory + "/probe.err"
            let screenshot = BrowserTools.artifacts + "/dashboard.png"
            let process = try Self.launchDriver(
                arguments: [
                    "--url", "http://127.0.0.1:\(port)/", "--chromium", try #require(BrowserTools.chromium),
                    "--screenshot", screenshot, "--rendered-marker", marker, "--min-total", "20",
                    "--timeout", "90", "--log", harness.directory + "/chromium.log",
                ] + Self.hostileNames.flatMap { ["--expect-name", $0] },
                stdout: stdout, stderr: stderr)
            driver = process
            try await eventually("the page's first render", timeout: .seconds(120)) {
                FileManager.default.fileExists(atPath: marker) || !process.isRunning
            }
            #expect(FileManager.default.fileExists(atPath: marker), "\(Self.text(stderr))")
            // Now, with the page open, the manager registers hostile names and an agent drops.
            for name in Self.hostileNames { try simulator.apply(.registerNamed(name)) }
            if let active = simulator.agents(withStatus: "active").first {
                try simulator.apply(.keepaliveTimeout(agentID: active))
            }
            try simulator.commit()
            try await eventually("the browser check to finish", timeout: .seconds(120)) { !process.isRunning }
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(Self.text(stderr))")
            let summary = try JSONSerialization.jsonObject(with: Data(Self.text(stdout).utf8)) as? [String: Any]
            let rendered = try #require(summary?["rendered"] as? [String: Any])
            #expect(rendered["total"] as? Int == 20)
            let arrived = try #require(summary?["arrived"] as? [String: Any])
            let names = try #require(arrived["names"] as? [String])
            for name in Self.hostileNames { #expect(names.contains(name)) }
            let safety = try #require(summary?["safety"] as? [String: Any])
            #expect(safety["pwned"] is NSNull)
            #expect(safety["injectedElements"] as? Int == 0)
            let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
            try? Data(Self.text(stdout).utf8).write(
                to: URL(fileURLWithPath: BrowserTools.artifacts + "/dashboard-probe.json"))
        } catch {
            if let driver, driver.isRunning { driver.terminate() }
            try? simulator.close()
            try? await daemon.shutdown()
            throw error
        }
        try simulator.close()
        try await daemon.shutdown()
    }

    static func launchDriver(arguments: [String], stdout: String, stderr: String) throws -> Process {
        _ = FileManager.default.createFile(atPath: stdout, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(BrowserTools.python))
        process.arguments = [BrowserTools.driver] + arguments
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    static func text(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
