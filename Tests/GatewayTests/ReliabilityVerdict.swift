import Foundation
import ReliabilityChecker
import Testing
import WazuhSimulator

/// The common end of a storm-driven reliability scenario: stop the gateway, judge the stream, print
/// the figures; and the cleanup every scenario needs whether it passes or fails.
enum ReliabilityVerdict {
    /// Stops the gateway with SIGTERM (it must exit 0), judges the whole stream against the simulator's
    /// ground truth (nothing lost, repeated or invented) and prints the scenario's `RELIABILITY` line:
    /// the common figures, then `extra`, then the peak RSS.
    @discardableResult
    static func conclude(
        _ scenario: String, seed: UInt64, harness: DaemonHarness, truthPath: String, slot: GatewaySlot,
        reader: StreamReader, extra: [(String, String)] = []
    ) async throws -> StreamCheckReport {
        let last = try await slot.terminate(within: .seconds(25))
        #expect(last.status == 0, "stderr: \(slot.stderrTail)")
        await reader.close()
        let report = try await ReliabilityStormTests.judge(harness: harness, truthPath: truthPath)
        #expect(report.passed, "seed \(seed): \(report)")
        #expect(report.deliveredTransitions == report.committedTransitions)
        ReliabilityStormTests.report(
            scenario,
            [
                ("seed", "\(seed)"), ("committed", "\(report.committedTransitions)"),
                ("status_events", "\(report.statusEvents)"), ("lost", "\(report.lostTransitions)"),
                ("duplicates", "\(report.duplicates)"), ("invented", "\(report.inventedEvents)"),
            ] + extra + [("peak_rss_mib", String(format: "%.1f", slot.peakResidentMiB))])
        return report
    }

    /// A simulated fleet of `agents` on the harness's global.db, logging its ground truth; returns the
    /// simulator and the ground-truth log's path.
    static func fleet(_ harness: DaemonHarness, agents: Int = 100, seed: UInt64) throws -> (WazuhSimulator, String) {
        let truthPath = harness.directory + "/ground-truth.jsonl"
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: harness.databasePath, agentCount: agents, seed: seed, groundTruthLogPath: truthPath))
        return (simulator, truthPath)
    }

    /// Starts the gateway child and waits until `/readyz` answers 200; returns it and its monitoring port.
    static func startReady(_ slot: GatewaySlot) async throws -> (GatewaySlot.GatewayProcess, Int) {
        let gateway = try slot.start()
        let port = try await gateway.monitoringPort()
        try await eventually("the gateway ready", timeout: .seconds(30)) {
            try await LoopbackHTTP.get(port: port, path: "/readyz").status == 200
        }
        return (gateway, port)
    }
}
