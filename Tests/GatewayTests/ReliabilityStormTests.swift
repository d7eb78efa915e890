import Foundation
import GRDB
import NATSClient
import NATSTestSupport
import ReliabilityChecker
import Testing
import WazuhSimulator

@testable import Gateway

/// Jepsen-style proof against the real built binary, a real nats-server and the simulator: faults are
/// injected at random moments while the simulator commits changes, then the whole stream is read back
/// by the independent ``StreamChecker`` and judged against the simulator's ground-truth log.
///
/// Bounded for `make test`; `RELIABILITY_SOAK=1` (`make soak`) runs the long version. A run's seed is
/// printed; `RELIABILITY_SEED=N` repeats it.
@Suite(.serialized) struct ReliabilityStormTests {
    static var soak: Bool { ProcessInfo.processInfo.environment["RELIABILITY_SOAK"] == "1" }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["RELIABILITY_SEED"].flatMap(UInt64.init)
            ?? UInt64.random(in: 1...UInt64(UInt32.max))
    }

    /// One line of figures per scenario, the source of RELIABILITY.md's table.
    static func report(_ scenario: String, _ fields: [(String, String)]) {
        print("RELIABILITY scenario=\(scenario) " + fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    @Test func crashStormWithNATSRestartsLosesAndRepeatsNothing() async throws {
        let seed = Self.seed
        let agents = Self.soak ? 1000 : 200
        // Issue #10 asks for at least 200 SIGKILLs in the soak and 20 in CI; the one SIGTERM under load
        // comes on top of them.
        let kills = Self.soak ? 200 : 23
        let interruptions = kills + 1
        let harness = try DaemonHarness()
        try await harness.server.start()
        let truthPath = harness.directory + "/ground-truth.jsonl"
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: harness.databasePath, agentCount: agents, seed: seed, groundTruthLogPath: truthPath))
        let configPath = try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s")
        let slot = GatewaySlot(configPath: configPath)
        let reader = StreamReader(
            urls: harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        try await slot.running(servers: [harness.server], closing: reader) {
            let first = try slot.start()
            let port = try await first.monitoringPort()
            // The first start takes the baseline: no change may be committed before it.
            try await eventually("the first gateway ready", timeout: .seconds(30)) {
                try await LoopbackHTTP.get(port: port, path: "/readyz").status == 200
            }
            let driver = ReliabilityStormDriver(simulator: simulator, reader: reader, seed: seed)
            let server = harness.server
            let injector = FaultInjector(
                slot: slot, restartNATS: { killing in try await server.restart(killing: killing) },
                interruptions: interruptions, natsRestartEvery: 6, shutdownTimeout: .seconds(5), seed: seed &+ 1)
            let faultsDone = FinishedFlag()
            let faults = Task {
                defer { faultsDone.set() }
                return try await injector.run()
            }
            let started = ContinuousClock.now
            while !faultsDone.isSet {
                await driver.observe()
                try driver.step()
                try await Task.sleep(for: .milliseconds(40))
            }
            let counts = try await faults.value
            try driver.finish()
            try await Self.waitUntilSettled(driver, seed: seed, harness: harness, truthPath: truthPath, slot: slot)
            let stormTime = ContinuousClock.now - started
            let last = try await slot.terminate(within: .seconds(25))
            #expect(last.status == 0, "stderr: \(slot.stderrTail)")
            #expect(try DaemonExecutableTests.pendingInOutbox(harness) == 0)
            await reader.close()

            let report = try await Self.judge(harness: harness, truthPath: truthPath)
            #expect(report.passed, "seed \(seed): \(report)")
            #expect(report.lostTransitions == 0 && report.duplicates == 0 && report.coalescedTransitions == 0)
            #expect(report.deliveredTransitions == report.committedTransitions)
            #expect(counts.kills == kills && counts.natsRestarts == interruptions / 6)
            for stop in counts.gracefulStops {
                #expect(stop.status == 0, "a SIGTERM under load must drain and exit 0: \(slot.stderrTail)")
                // Bounded by shutdown_timeout (5 s) plus generous room for a loaded machine.
                #expect(stop.took < .seconds(15))
            }
            Self.report(
                Self.soak ? "crash-storm-soak" : "crash-storm",
                [
                    ("seed", "\(seed)"), ("agents", "\(agents)"), ("committed", "\(report.committedTransitions)"),
                    ("status_events", "\(report.statusEvents)"), ("messages", "\(report.messages)"),
                    ("kills", "\(counts.kills)"), ("sigterms", "\(counts.gracefulStops.count + 1)"),
                    (
                        "sigterm_exit_ms",
                        counts.gracefulStops.map { "\(Self.milliseconds($0.took))" }.joined(separator: ",")
                    ),
                    ("nats_restarts", "\(counts.natsRestarts)"), ("restart_storms", "\(driver.restartStorms)"),
                    ("long_transactions", "\(driver.longTransactions)"), ("lost", "\(report.lostTransitions)"),
                    ("duplicates", "\(report.duplicates)"),
                    ("peak_rss_mib", String(format: "%.1f", slot.peakResidentMiB)),
                    ("longest_gap_ms", "\(Self.milliseconds(driver.longestGap))"),
                    ("storm_s", String(format: "%.1f", Double(Self.milliseconds(stormTime)) / 1000)),
                ])
        }
    }

    /// Waits until everything committed is in the stream; on a timeout, records what the checker makes of
    /// the stream so far and the gateway's last output.
    static func waitUntilSettled(
        _ driver: ReliabilityStormDriver, seed: UInt64, harness: DaemonHarness, truthPath: String, slot: GatewaySlot,
        urls: String? = nil
    ) async throws {
        do {
            try await eventually(
                "every committed transition delivered (seed \(seed))", timeout: .seconds(120), poll: .milliseconds(100)
            ) {
                await driver.observe()
                return driver.unsettled.isEmpty
            }
        } catch {
            let waiting = driver.unsettled.prefix(10).map { "\($0)" }.joined(separator: ",")
            let report = try? await Self.judge(harness: harness, truthPath: truthPath, urls: urls)
            let checker = report.map { "\($0)" } ?? "unreadable"
            let outbox = (try? Self.outboxRows(harness, agent: driver.unsettled.first)) ?? "unreadable"
            let message =
                "seed \(seed): agents still waiting \(waiting); outbox: \(outbox); checker: \(checker)\ngateway: \(slot.stderrTail)"
            Issue.record(Comment(rawValue: message))
            throw error
        }
    }

    /// The agent's last outbox rows and the outbox's highest stream sequence (failure diagnostics).
    static func outboxRows(_ harness: DaemonHarness, agent: Int?) throws -> String {
        guard let agent else { return "-" }
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: harness.configuration.outbox.path, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT message_id, delivered_at, stream_seq FROM outbox WHERE agent_id = ? ORDER BY seq DESC LIMIT 3",
                arguments: [AgentEventMapper.wireAgentID(agent)])
            let top = try Int.fetchOne(db, sql: "SELECT max(stream_seq) FROM outbox") ?? -1
            // Pending as the outbox defines it since v006: above the delivered watermark, unmarked, not parked.
            let pending =
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND parked_at IS NULL
                        AND seq > coalesce((SELECT through_seq FROM delivery_watermark WHERE id = 1), 0)
                        """) ?? -1
            return "max stream_seq \(top), pending \(pending), agent rows \(rows.map { "\($0)" })"
        }
    }

    /// Reads the whole stream afresh and judges it.
    static func judge(harness: DaemonHarness, truthPath: String, urls: String? = nil) async throws
        -> StreamCheckReport
    {
        let reader = StreamReader(
            urls: urls ?? harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        let records = try await reader.readNew()
        await reader.close()
        return StreamChecker().check(
            records: records, groundTruth: try GroundTruthLog.read(path: truthPath),
            finalStatuses: try FinalStatuses.read(databasePath: harness.databasePath))
    }
}
