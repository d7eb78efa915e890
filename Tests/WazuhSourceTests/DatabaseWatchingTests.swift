import Foundation
import GRDB
import Synchronization
import Testing
import WazuhSimulator

@testable import WazuhSource

/// Watcher, monitor and writer-contention tests. Serialized: they count the process's watch threads
/// and measure timings, which other tests of this suite would disturb.
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
    }

    static func watchThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter { task in
            let comm = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            return comm?.hasPrefix("wazuh-db-watch") == true
        }.count
    }

    /// `commits` small transactions in a row, each committed, with synchronous=OFF so they are fast.
    /// Returns the instant just before the last COMMIT.
    static func commitStorm(_ writer: DatabaseQueue, commits: Int) throws -> ContinuousClock.Instant {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = OFF")
            var lastCommit = ContinuousClock.now
            for round in 0..<commits {
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(
                    sql: "UPDATE agent SET last_keepalive = ? WHERE id > 0", arguments: [baseTime + Int64(round)])
                lastCommit = ContinuousClock.now
                try db.execute(sql: "COMMIT")
            }
            return lastCommit
        }
    }

    /// Every commit is signalled as a file change, not left to the (here one-minute) poll. How fast the
    /// signal comes is measured by `Benchmarks/source` (COMMIT → emitted), not asserted here.
    @Test func watcherSignalsEveryCommitAsAFileChange() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 100, initiallyActive: 1)
        let watcher = DatabaseChangeWatcher(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let log = SignalLog()
        let signals = watcher.signals()  // armed from here on
        let consumer = Task {
            for await signal in signals { log.record(signal) }
        }
        defer { consumer.cancel() }
        for round in 0..<30 {
            simulator.now = baseTime + Int64(round)
            try simulator.apply(.stop(agentID: round + 1))
            let before = log.count
            try simulator.commit()
            try await eventually("the signal of commit \(round + 1)", timeout: .seconds(5), poll: .microseconds(200)) {
                log.count > before
            }
        }
        try simulator.close()
        #expect(log.count >= 30)
        #expect(log.signals(after: 0).allSatisfy { $0.1 == .fileChanged })
    }

    /// 200 fast commits (synchronous=OFF, as a storm of small transactions) must give at most one
    /// signal per minimum gap, and the last commit must still be signalled.
    @Test func watcherCoalescesABurstOfCommitsAndStillSignalsTheLastOne() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 50, initiallyActive: 1).close()
        let writer = try openForWriting(path)
        let gap = Duration.milliseconds(20)
        let watcher = DatabaseChangeWatcher(
            configuration: .init(databasePath: path, pollInterval: .seconds(60), minimumGap: gap))
        let log = SignalLog()
        let signals = watcher.signals()  // armed from here on
        let consumer = Task {
            for await signal in signals { log.record(signal) }
        }
        defer { consumer.cancel() }
        let start = ContinuousClock.now
        let lastCommit = try Self.commitStorm(writer, commits: 200)
        try await eventually("the signal after the last commit", timeout: .seconds(5), poll: .milliseconds(2)) {
            log.signals(after: 0).contains { $0.0 >= lastCommit }
        }
        let received = log.signals(after: 0)
        let span = (received.last?.0 ?? start) - start
        let bound = Int(span / gap) + 2
        print("200 commits in \(lastCommit - start) produced \(received.count) signals (rate bound \(bound))")
        #expect(received.count <= bound)
        #expect(received.count < 200)
    }

    @Test func watcherPollsWithoutFileEventsAndStopsItsThreadOnCancellation() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let watcher = DatabaseChangeWatcher(configuration: .init(databasePath: path, pollInterval: .milliseconds(20)))
        try await eventually("earlier tests' watch threads to exit", timeout: .seconds(2), poll: .milliseconds(2)) {
            Self.watchThreads() == 0
        }
        let before = Self.watchThreads()
        let log = SignalLog()
        let signals = watcher.signals()  // armed from here on
        let consumer = Task {
            for await signal in signals { log.record(signal) }
        }
        try await eventually("three poll ticks", timeout: .seconds(2), poll: .milliseconds(2)) { log.count >= 3 }
        #expect(log.signals(after: 0).allSatisfy { $0.1 == .pollTick })
        #expect(Self.watchThreads() == before + 1)
        consumer.cancel()
        try await withDeadline(.seconds(2), "the consumer to end") { await consumer.value }
        try await eventually("the watch thread to exit", timeout: .seconds(2), poll: .milliseconds(2)) {
            Self.watchThreads() == before
        }
    }

    @Test func monitorYieldsABaselineThenOnlyRealChanges() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 30, initiallyActive: 1)
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withDeadline(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }
        #expect(baseline.isBaseline)
        #expect(baseline.changes.isEmpty)
        #expect(baseline.counts.total == 30)

        let next = Task { try await monitor.nextUpdate(after: baseline.snapshot) }
        simulator.now = baseTime + 10
        try simulator.apply(.keepaliveAll)
        try simulator.commit()
        // The keepalive-only commit is read (and, changing no status, not returned) before the next one.
        try await eventually("the read of the keepalive commit", timeout: .seconds(5), poll: .milliseconds(1)) {
            monitor.health.successfulReads >= 2
        }
        simulator.now = baseTime + 20
        try simulator.apply(.stop(agentID: 4))
        try simulator.commit()
        let update = try await withDeadline(.seconds(5), "the update") { try await next.value }
        #expect(!update.isBaseline)
        #expect(update.changes.map(\.agentID) == [4])
        #expect(update.counts.disconnected == 1)
        #expect(monitor.health.isHealthy)
        #expect(monitor.health.successfulReads >= 3)
        try simulator.close()
    }

    @Test func monitorRepeatsTheSameDiffWhenTheCallerDidNotPersist() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 10, initiallyActive: 1)
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withDeadline(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }

        let first = Task { try await monitor.nextUpdate(after: baseline.snapshot) }
        simulator.now = baseTime + 30
        try simulator.apply(.stop(agentID: 2))
        try simulator.commit()
        let lost = try await withDeadline(.seconds(5), "the first update") { try await first.value }

        let retried = try await withDeadline(.seconds(5), "the retried update") {
            try await monitor.nextUpdate(after: baseline.snapshot)
        }
        #expect(retried.changes == lost.changes)
        #expect(retried.snapshot == lost.snapshot)

        let later = Task { try await monitor.nextUpdate(after: retried.snapshot) }
        simulator.now = baseTime + 40
        try simulator.apply(.stop(agentID: 3))
        try simulator.commit()
        let update = try await withDeadline(.seconds(5), "the next update") { try await later.value }
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
        let update = try await withDeadline(.seconds(5), "the catch-up update") {
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
        try await eventually("a recorded failure", timeout: .seconds(5), poll: .milliseconds(2)) {
            monitor.health.consecutiveFailures >= 2
        }
        let health = monitor.health
        #expect(health.lastError?.code == .notADatabase)
        #expect(!health.isHealthy)

        let fixed = directory.file("fixed.db")
        try WazuhSimulator.fixture(fixed, agents: 4).close()
        _ = rename(fixed, path)
        let baseline = try await withDeadline(.seconds(5), "recovery") { try await first.value }
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
        try await eventually("a recorded failure", timeout: .seconds(5), poll: .milliseconds(2)) {
            monitor.health.consecutiveFailures >= 1
        }
        #expect(monitor.health.lastError?.code == .fileMissing)

        let created = directory.file("new.db")
        try WazuhSimulator.fixture(created, agents: 4).close()
        _ = rename(created, path)
        let baseline = try await withDeadline(.seconds(5), "the file to appear") { try await first.value }
        #expect(baseline.counts.total == 4)
        let comparison = try #require(monitor.health.clientKeys)
        #expect(comparison.removedButInDatabase == [4])
        #expect(comparison.registeredButNotInDatabase.isEmpty)
    }

    @Test func monitorEndsWithCancellationAndStopsWatching() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 3).close()
        try await eventually("earlier tests' watch threads to exit", timeout: .seconds(2), poll: .milliseconds(2)) {
            Self.watchThreads() == 0
        }
        let before = Self.watchThreads()
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withDeadline(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }
        let waitsBefore = monitor.signalWaits
        let waiting = Task { try await monitor.nextUpdate(after: baseline.snapshot) }
        try await eventually("the monitor to wait for a change", timeout: .seconds(5), poll: .milliseconds(1)) {
            monitor.signalWaits > waitsBefore
        }
        waiting.cancel()
        let outcome = try await withDeadline(.seconds(5), "cancellation") { await waiting.result }
        #expect(throws: CancellationError.self) { try outcome.get() }
        try await eventually("the watch thread to exit", timeout: .seconds(2), poll: .milliseconds(2)) {
            Self.watchThreads() == before
        }
    }

    /// Runs the same writer with and without a reader reading continuously, in alternating blocks
    /// (so machine load affects both alike), and compares COMMIT durations: the reader's short read
    /// transactions must not make the writer's commits noticeably slower.
    @Test func readerBarelyDelaysTheWritersCommit() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 1_000, initiallyActive: 1)
        let reader = GlobalDatabaseReader(path: path)
        let reading = ReadingSwitch()
        let readerTask = Task.detached {
            var reads = 0
            var longest = Duration.zero
            while !reading.finished {
                guard reading.on else {
                    try await Task.sleep(for: .milliseconds(1))  // idle between the writer's blocks, not a wait
                    continue
                }
                let read = try reader.read()
                longest = max(longest, read.transactionDuration)
                reads += 1
            }
            return (reads, longest)
        }
        let writer = Task {
            var quiet: [Duration] = []
            var contended: [Duration] = []
            for round in 0..<160 {
                let withReader = (round / 20).isMultiple(of: 2) == false
                reading.set(on: withReader)
                simulator.now = baseTime + Int64(round)
                try simulator.apply(round.isMultiple(of: 2) ? .stop(agentID: 1 + round) : .keepaliveAll)
                try await Task.sleep(for: .milliseconds(2))  // wazuh-db's transaction stays open a moment
                try simulator.commit()
                if let last = simulator.commitDurations.last {
                    if withReader { contended.append(last) } else { quiet.append(last) }
                }
            }
            reading.finish()
            try simulator.close()
            return (quiet.sorted(), contended.sorted())
        }
        let (quiet, contended) = try await withDeadline(.seconds(120), "writer") { try await writer.value }
        let (reads, longestRead) = try await withDeadline(.seconds(10), "reader") { try await readerTask.value }
        let quietMedian = quiet[quiet.count / 2]
        let contendedMedian = contended[contended.count / 2]
        print(
            "COMMIT without reader: p50 \(quietMedian), max \(quiet.last ?? .zero); with reader (\(reads) reads, "
                + "longest read tx \(longestRead)): p50 \(contendedMedian), max \(contended.last ?? .zero)")
        #expect(reads > 10)
        // A COMMIT waits at most for the read transaction in progress; the bound is generous for a
        // loaded machine. A reader that kept a transaction open would stall the writer for seconds.
        #expect(contendedMedian < quietMedian + max(.milliseconds(25), longestRead))
        #expect((contended.last ?? .zero) < .seconds(2))
    }

    /// A read that fails (here: wazuh-db takes its lock again right after a commit and holds it past
    /// the reader's busy budget) is retried within moments, not at the next poll tick.
    @Test func monitorRetriesAFailedReadSoonerThanThePollInterval() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 10, initiallyActive: 1).close()
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .seconds(60)))
        let baseline = try await withDeadline(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }
        let writer = try openForWriting(path)
        let holder = Task.detached {
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                try db.execute(
                    sql: "UPDATE agent SET connection_status = 'disconnected', disconnection_time = 7 WHERE id = 3")
                try db.execute(sql: "COMMIT")
                // No write, so no journal and no file event when it ends: only a retry can see the commit.
                try db.execute(sql: "BEGIN EXCLUSIVE")
                Thread.sleep(forTimeInterval: 0.6)  // a slow writer holding its lock, not a wait
                try db.execute(sql: "COMMIT")
            }
        }
        let update = try await withDeadline(.seconds(10), "the change") {
            try await monitor.nextUpdate(after: baseline.snapshot)
        }
        try await holder.value
        #expect(update.changes.map(\.agentID) == [3])
        #expect(update.changes.first?.currentStatus == .disconnected)
    }

    /// The simulator's real-time restart storm, watched by the monitor: agents go disconnected
    /// (manager restart), then pending, then active again, and the long-lived write transaction is
    /// committed by the idle/age timers alone.
    @Test func monitorFollowsASimulatedRestartStormInRealTime() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: path, schema: .wazuh4(minor: 14), agentCount: 20, seed: 3,
                commitIdle: .milliseconds(40), commitMaxAge: .milliseconds(150), notifyInterval: .seconds(1),
                reconnectPeriod: .milliseconds(900), initiallyActive: 1))
        let monitor = AgentStatusMonitor(configuration: .init(databasePath: path, pollInterval: .milliseconds(500)))
        let baseline = try await withDeadline(.seconds(5), "the baseline") { try await monitor.nextUpdate(after: nil) }
        #expect(baseline.counts.active == 20)
        let deadline = ContinuousClock.now + .seconds(4)
        let run = Task { try await simulator.run(.restartStorm, until: deadline, tick: .milliseconds(20)) }
        let history = try await withDeadline(.seconds(15), "the storm to pass") {
            var snapshot = baseline.snapshot
            var history: [Int: [ConnectionStatus]] = [:]
            while history.count < 20 || history.values.contains(where: { $0.last != .active }) {
                let update = try await monitor.nextUpdate(after: snapshot)
                snapshot = update.snapshot
                for change in update.changes {
                    history[change.agentID, default: []].append(change.currentStatus)
                    if change.currentStatus == .disconnected { #expect(change.reason == .managerRestart) }
                }
            }
            return history
        }
        try await withDeadline(.seconds(10), "the simulator run") { try await run.value }
        #expect(history.count == 20)
        for (id, statuses) in history {
            // Like wazuh-db, the simulator commits late: an agent that returns before the storm is
            // committed is first seen pending (active → pending), exactly as a real reader would see it.
            #expect(statuses.first == .disconnected || statuses.first == .pending, "agent \(id): \(statuses)")
            #expect(statuses.last == .active, "agent \(id): \(statuses)")
        }
        #expect(history.values.contains { $0 == [.disconnected, .pending, .active] })
        #expect(history.values.filter { $0.first == .disconnected }.count >= 5)
    }
}

/// Turns the contention test's reader on and off.
final class ReadingSwitch: Sendable {
    private let state = Mutex((on: false, finished: false))

    var on: Bool { state.withLock { $0.on } }
    var finished: Bool { state.withLock { $0.finished } }

    func set(on: Bool) { state.withLock { $0.on = on } }
    func finish() { state.withLock { $0.finished = true } }
}
