import Foundation
import GRDB
import ReliabilityChecker
import Testing
import WazuhSimulator

@testable import Gateway

/// global.db in trouble under the real binary: held locked by a long writer, and briefly replaced by
/// garbage, each right after changes were committed. The gateway must report each trouble (the
/// `source_read_errors_total` counter), keep retrying, and resume without a missed or invented
/// transition — judged by the independent checker against the simulator's ground truth.
@Suite(.serialized) struct ReliabilityDatabaseTroubleTests {
    static let readErrors = "wazuh_nats_gateway_source_read_errors_total"

    static func readErrorCount(port: Int) async throws -> Double {
        MetricsText.sum(try await LoopbackHTTP.get(port: port, path: "/metrics").body, name: readErrors)
    }

    /// A few seconds of storm, then everything committed.
    static func burst(_ driver: ReliabilityStormDriver, steps: Int) async throws {
        for _ in 0..<steps {
            await driver.observe()
            try driver.step()
            try await Task.sleep(for: .milliseconds(40))
        }
        try driver.finish()
    }

    static func settle(_ driver: ReliabilityStormDriver, _ what: String) async throws {
        try await eventually("every transition delivered (\(what))", timeout: .seconds(60), poll: .milliseconds(100)) {
            await driver.observe()
            return driver.unsettled.isEmpty
        }
    }

    @Test func lockedAndGarbageDatabaseResumesWithoutMissedOrInventedTransitions() async throws {
        let seed = ReliabilityStormTests.seed
        let harness = try DaemonHarness()
        try await harness.server.start()
        let (simulator, truthPath) = try ReliabilityVerdict.fleet(harness, seed: seed)
        let slot = GatewaySlot(configPath: try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s"))
        let reader = StreamReader(
            urls: harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        try await slot.running(servers: [harness.server], closing: reader) {
            let (_, port) = try await ReliabilityVerdict.startReady(slot)
            let driver = ReliabilityStormDriver(simulator: simulator, reader: reader, seed: seed)
            try await Self.burst(driver, steps: 40)
            try await Self.settle(driver, "before trouble")

            // 1. A long writer holds the database locked right after a commit the gateway has not read yet.
            var errors = try await Self.readErrorCount(port: port)
            try await Self.burst(driver, steps: 5)
            var grdb = Configuration()
            grdb.allowsUnsafeTransactions = true
            let writer = try DatabaseQueue(path: harness.databasePath, configuration: grdb)
            try writer.inDatabase { try $0.execute(sql: "BEGIN EXCLUSIVE") }
            let lockedErrors = errors
            try await eventually("the lock reported", timeout: .seconds(30)) {
                try await Self.readErrorCount(port: port) > lockedErrors
            }
            try writer.inDatabase { try $0.execute(sql: "ROLLBACK") }
            try writer.close()
            try await Self.settle(driver, "after the lock")

            // 2. The file is briefly garbage (atomically swapped, then the real file swapped back).
            errors = try await Self.readErrorCount(port: port)
            try await Self.burst(driver, steps: 5)
            let path = harness.databasePath
            let garbage = (0..<(64 * 1024)).map { _ in UInt8.random(in: 0...255) }
            try Data(garbage).write(to: URL(fileURLWithPath: path + ".garbage"))
            #expect(rename(path, path + ".aside") == 0)
            #expect(rename(path + ".garbage", path) == 0)
            let garbageErrors = errors
            try await eventually("the garbage reported", timeout: .seconds(30)) {
                try await Self.readErrorCount(port: port) > garbageErrors
            }
            let output = slot.process.map(\.stderr) ?? ""
            #expect(output.contains("reading global.db failed"))
            #expect(rename(path + ".aside", path) == 0)
            try await Self.settle(driver, "after the garbage")
            try await Self.burst(driver, steps: 20)
            try await Self.settle(driver, "at the end")

            let totalErrors = try await Self.readErrorCount(port: port)
            try await ReliabilityVerdict.conclude(
                "database-trouble", seed: seed, harness: harness, truthPath: truthPath, slot: slot, reader: reader,
                extra: [
                    ("read_errors_reported", "\(Int(totalErrors))"),
                    ("longest_gap_ms", "\(ReliabilityStormTests.milliseconds(driver.longestGap))"),
                ])
        }
    }
}
