import Foundation
import Synchronization
import Testing
import WazuhSimulator
import WazuhSource

/// Watcher and monitor tests. Serialized: they count the process's watch threads and measure latency.
@Suite(.serialized)
struct DatabaseWatchingTests {
    /// Collects the instants at which a watcher's signals arrive.
    final class SignalLog: Sendable {
        private let instants = Mutex<[(ContinuousClock.Instant, DatabaseChangeWatcher.Signal)]>([])

        var count: Int { instants.withLock { $0.count } }

        func record(_ signal: DatabaseChangeWatcher.Signal) {
            let now = ContinuousClock.now
            instants.withLock { $0.append((now, signal)) }
        }

        func signals(after index: Int) -> [(ContinuousClock.Instant, DatabaseChangeWatcher.Signal)] {
            instants.withLock { Array($0.dropFirst(index)) }
        }

        /// Waits (bounded) until more than `count` signals arrived; returns the first new one.
        func waitForSignal(after count: Int, limit: Duration = .seconds(2)) async throws -> ContinuousClock.Instant {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if let first = signals(after: count).first { return first.0 }
                try await Task.sleep(for: .microseconds(200))
            }
            throw TimeoutError(what: "a watcher signal")
        }
    }

    static func watchThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            return comm?.hasPrefix("wazuh-db-watch") == true
        }.count
    }

    static func waitUntil(_ limit: Duration, _ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TimeoutError(what: what) }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    @Test func watcherSignalsWithinMillisecondsOfACommit() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 100, initiallyActive: 1)
        let watcher = DatabaseChangeWatcher(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let log = SignalLog()
        let consumer = Task {
            for await signal in watcher.signals() { log.record(signal) }
        }
        defer { consumer.cancel() }
        try await Task.sleep(for: .milliseconds(50))
        var latencies: [Duration] = []
        for round in 0..<30 {
            simulator.now = baseTime + Int64(round)
            try simulator.apply(.stop(agentID: round + 1))
            try await Task.sleep(for: .milliseconds(5))
            let before = log.count
            try simulator.commit()
            let committed = ContinuousClock.now
            let signalled = try await log.waitForSignal(after: before)
            latencies.append(signalled - committed)
            try await Task.sleep(for: .milliseconds(15))
        }
        try simulator.close()
        let sorted = latencies.sorted()
        print("watcher latency after commit: p50 \(sorted[sorted.count / 2]), max \(sorted.last ?? .zero)")
        #expect(sorted[sorted.count / 2] < .milliseconds(50))
        #expect(log.signals(after: 0).allSatisfy { $0.1 == .fileChanged })
    }

    @Test func watcherCoalescesABurstOfCommitsAndStillSignalsTheLastOne() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 50, initiallyActive: 1)
        let watcher = DatabaseChangeWatcher(
            configuration: .init(databasePath: path, pollInterval: .seconds(60), minimumGap: .milliseconds(20)))
        let log = SignalLog()
        let consumer = Task {
            for await signal in watcher.signals() { log.record(signal) }
        }
        defer { consumer.cancel() }
        try await Task.sleep(for: .milliseconds(50))
        let start = log.count
        for round in 0..<200 {
            simulator.now = baseTime + Int64(round)
            try simulator.apply(.keepaliveAll)
            try simulator.commit()
        }
        let lastCommit = ContinuousClock.now
        try await Self.waitUntil(.seconds(2), "the signal after the last commit") {
            log.signals(after: start).contains { $0.0 >= lastCommit }
        }
        let signals = log.signals(after: start).count
        print("200 commits produced \(signals) signals")
        #expect(signals < 100)
        try simulator.close()
    }

    @Test func watcherPollsWithoutFileEventsAndStopsItsThreadOnCancellation() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let watcher = DatabaseChangeWatcher(configuration: .init(databasePath: path, pollInterval: .milliseconds(20)))
        try await Self.waitUntil(.seconds(2), "earlier tests' watch threads to exit") { Self.watchThreads() == 0 }
        let before = Self.watchThreads()
        let log = SignalLog()
        let consumer = Task {
            for await signal in watcher.signals() { log.record(signal) }
        }
        try await Self.waitUntil(.seconds(2), "three poll ticks") { log.count >= 3 }
        #expect(log.signals(after: 0).allSatisfy { $0.1 == .pollTick })
        #expect(Self.watchThreads() == before + 1)
        consumer.cancel()
        try await withTimeout(.seconds(2), "the consumer to end") { await consumer.value }
        try await Self.waitUntil(.seconds(2), "the watch thread to exit") { Self.watchThreads() == before }
    }

    @Test func monitorYieldsABaselineThenOnlyRealChanges() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 30, initiallyActive: 1)
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withTimeout(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }
        #expect(baseline.isBaseline)
        #expect(baseline.changes.isEmpty)
        #expect(baseline.counts.total == 30)

        let next = Task { try await monitor.nextUpdate(after: baseline.snapshot) }
        simulator.now = baseTime + 10
        try simulator.apply(.keepaliveAll)
        try simulator.commit()
        try await Task.sleep(for: .milliseconds(50))
        simulator.now = baseTime + 20
        try simulator.apply(.stop(agentID: 4))
        try simulator.commit()
        let update = try await withTimeout(.seconds(5), "the update") { try await next.value }
        #expect(!update.isBaseline)
        #expect(update.changes.map(\.agentID) == [4])
        #expect(update.counts.disconnected == 1)
        #expect(monitor.health.isHealthy)
        #expect(monitor.health.successfulReads >= 2)
        try simulator.close()
    }

    @Test func monitorRepeatsTheSameDiffWhenTheCallerDidNotPersist() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 10, initiallyActive: 1)
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withTimeout(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }

        let first = Task { try await monitor.nextUpdate(after: baseline.snapshot) }
        simulator.now = baseTime + 30
        try simulator.apply(.stop(agentID: 2))
        try simulator.commit()
        let lost = try await withTimeout(.seconds(5), "the first update") { try await first.value }

        let retried = try await withTimeout(.seconds(5), "the retried update") {
            try await monitor.nextUpdate(after: baseline.snapshot)
        }
        #expect(retried.changes == lost.changes)
        #expect(retried.snapshot == lost.snapshot)

        let later = Task { try await monitor.nextUpdate(after: retried.snapshot) }
        simulator.now = baseTime + 40
        try simulator.apply(.stop(agentID: 3))
        try simulator.commit()
        let update = try await withTimeout(.seconds(5), "the next update") { try await later.value }
        #expect(update.changes.map(\.agentID) == [3])
        try simulator.close()
    }

    @Test func monitorReportsChangesMadeWhileTheGatewayWasDown() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 10, initiallyActive: 1)
        let stored = try AgentSnapshot(exported: GlobalDatabaseReader(path: path).read().snapshot.export())
        simulator.now = baseTime + 60
        try simulator.apply(.restartStorm)
        try simulator.apply(.register)
        try simulator.commit()
        try simulator.close()

        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let update = try await withTimeout(.seconds(5), "the catch-up update") {
            try await monitor.nextUpdate(after: stored)
        }
        #expect(update.changes.count == 11)
        #expect(update.changes.filter { $0.kind == .registered }.map(\.agentID) == [11])
    }

    @Test func monitorKeepsRunningThroughAGarbageFileAndRecoversWhenItIsFixed() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x5a, count: 4096)))
        let monitor = AgentStatusMonitor(
            configuration: .init(databasePath: path, pollInterval: .milliseconds(50)))
        let first = Task { try await monitor.nextUpdate(after: nil) }
        try await Self.waitUntil(.seconds(5), "a recorded failure") { monitor.health.consecutiveFailures >= 2 }
        let health = monitor.health
        #expect(health.lastError?.code == .notADatabase)
        #expect(!health.isHealthy)

        let fixed = directory.file("fixed.db")
        try WazuhSimulator.fixture(fixed, agents: 4).close()
        _ = rename(fixed, path)
        let baseline = try await withTimeout(.seconds(5), "recovery") { try await first.value }
        #expect(baseline.isBaseline)
        #expect(baseline.counts.total == 4)
        #expect(monitor.health.isHealthy)
        #expect(monitor.health.failedReads >= 2)
    }

    @Test func monitorWaitsForAMissingFileAndComparesClientKeys() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let keysPath = directory.file("client.keys")
        let key = String(repeating: "9c", count: 32)
        let keys = (1...3).map { "00\($0) host-\($0) any \(key)" } + ["004 !removed any \(key)"]
        try keys.joined(separator: "\n").write(toFile: keysPath, atomically: true, encoding: .utf8)
        let monitor = AgentStatusMonitor(
            configuration: .init(databasePath: path, clientKeysPath: keysPath, pollInterval: .seconds(60)))
        let first = Task { try await monitor.nextUpdate(after: nil) }
        try await Self.waitUntil(.seconds(5), "a recorded failure") { monitor.health.consecutiveFailures >= 1 }
        #expect(monitor.health.lastError?.code == .fileMissing)

        let created = directory.file("new.db")
        try WazuhSimulator.fixture(created, agents: 4).close()
        _ = rename(created, path)
        let baseline = try await withTimeout(.seconds(5), "the file to appear") { try await first.value }
        #expect(baseline.counts.total == 4)
        let comparison = try #require(monitor.health.clientKeys)
        #expect(comparison.removedButInDatabase == [4])
        #expect(comparison.registeredButNotInDatabase.isEmpty)
    }

    @Test func monitorEndsWithCancellationAndStopsWatching() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 3).close()
        try await Self.waitUntil(.seconds(2), "earlier tests' watch threads to exit") { Self.watchThreads() == 0 }
        let before = Self.watchThreads()
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withTimeout(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }
        let waiting = Task { try await monitor.nextUpdate(after: baseline.snapshot) }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        let outcome = try await withTimeout(.seconds(5), "cancellation") { await waiting.result }
        #expect(throws: CancellationError.self) { try outcome.get() }
        try await Self.waitUntil(.seconds(2), "the watch thread to exit") { Self.watchThreads() == before }
    }
}
