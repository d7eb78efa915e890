import Foundation
import Logging
import Outbox
import ServiceLifecycle
import Synchronization
import Testing
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// The detection service against a real simulator global.db and a real SQLite outbox.
@Suite(.serialized)
struct DetectionServiceTests {
    let logger = Logger(label: "detection-test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A simulated manager, an outbox and the service's collaborators in a fresh temp directory.
    final class Fixture {
        private let temporary: TemporaryDirectory
        let directory: String
        let simulator: WazuhSimulator
        let store: OutboxStore
        let wake = DeliveryWakeSignal()
        /// The monitor of the last service made (its health counts the reads).
        private(set) var monitor: AgentStatusMonitor?

        init(agents: Int = 10) throws {
            temporary = try TemporaryDirectory(prefix: "detection")
            directory = temporary.path
            simulator = try WazuhSimulator(
                configuration: .init(databasePath: directory + "/global.db", agentCount: agents, initiallyActive: 1.0),
                now: 1_716_897_000)
            store = try OutboxStore(path: directory + "/outbox.db", synchronous: .normal)
        }

        deinit {
            try? simulator.close()
            try? store.close()
        }

        func makeService(
            logger: Logger, onJournaled: DetectionService.JournaledObserver? = nil
        ) throws -> DetectionService {
            let monitor = AgentStatusMonitor(
                configuration: .init(databasePath: directory + "/global.db", pollInterval: .milliseconds(200)))
            self.monitor = monitor
            let encoder = DetectionEncoder(
                mapper: AgentEventMapper(managerNode: "mgr-test"), subjects: try Subjects(prefix: "test"),
                signingKey: try SigningKey(bytes: Array(repeating: 3, count: 32)))
            return DetectionService(
                monitor: monitor, store: store, encoder: encoder, wakeSignal: wake,
                retryBackoff: Backoff(base: .milliseconds(20), cap: .milliseconds(100)), onJournaled: onJournaled,
                logger: logger)
        }

        /// Waits until the monitor made `reads` successful reads (the service is back at its next cycle).
        func waitForReads(_ reads: Int) async throws -> Bool {
            try await waitUntil(timeout: .seconds(20)) { (monitor?.health.successfulReads ?? 0) >= reads }
        }

        /// The agent's status in the journaled snapshot, if there is one.
        func journaledStatus(of agentID: Int) throws -> ConnectionStatus? {
            try JournaledSnapshot.load(from: store, now: 0)?.snapshot.record(id: agentID)?.status
        }

        func journaledSubjects() throws -> [String] {
            try store.messages(matching: OutboxQuery(limit: 10_000)).map(\.subject)
        }

        /// Runs `sql` on the outbox with the sqlite3 command-line shell (a second, independent writer).
        func sqlite(_ sql: String) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            process.arguments = ["-cmd", ".timeout 5000", directory + "/outbox.db", sql]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw DeliveryFailure(code: .other, message: "sqlite3 exited with \(process.terminationStatus)")
            }
        }
    }

    @Test func firstStartRecordsABaselineWithoutEvents() async throws {
        let fixture = try Fixture()
        #expect(try fixture.store.loadSnapshot() == nil)
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            let recorded = try await waitUntil { (try? fixture.store.loadSnapshot()) != nil }
            #expect(recorded)
            // A read after the baseline: a (wrong) first cycle would have journaled its events by now.
            #expect(try await fixture.waitForReads(2))
        }
        #expect(try fixture.store.baselineRecordedAt() != nil)
        #expect(try fixture.store.stats().lastSeq == 0)
        #expect(try fixture.journaledStatus(of: 1) == .active)
        let snapshot = try AgentSnapshot(exported: #require(try fixture.store.loadSnapshot()))
        #expect(snapshot.count == 10)
    }

    @Test func laterChangesAreJournaledTogetherWithTheirSnapshot() async throws {
        let fixture = try Fixture()
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            #expect(try await waitUntil { (try? fixture.store.loadSnapshot()) != nil })
            fixture.simulator.now += 10
            try fixture.simulator.apply(.stop(agentID: 3))
            try fixture.simulator.commit()
            // The rows and the snapshot land in one transaction: once rows are visible, so is the new state.
            #expect(try await waitUntil { ((try? fixture.store.stats().lastSeq) ?? 0) > 0 })
            #expect(try fixture.journaledStatus(of: 3) == .disconnected)
        }
        let subjects = try fixture.journaledSubjects()
        #expect(subjects == ["test.agent.003.status", "test.agent.003.disconnected", "test.security.agent_events"])
        #expect(try fixture.journaledStatus(of: 4) == .active)
        let event = try #require(try fixture.store.messages(matching: OutboxQuery(kinds: [.event])).first)
        let json = String(decoding: event.payload, as: UTF8.self)
        #expect(json.contains("\"current_status\":\"Disconnected\""))
    }

    /// A cycle of a few changes journals them as a delta since the whole snapshot (a few hundred bytes, not
    /// the fleet), which a restart applies: the stored row still holds the baseline, the journaled state
    /// the change; a new start diffs against the latter and journals nothing twice.
    @Test func aSmallCycleJournalsADeltaThatARestartApplies() async throws {
        let fixture = try Fixture()
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            #expect(try await waitUntil { (try? fixture.store.loadSnapshot()) != nil })
            fixture.simulator.now += 10
            try fixture.simulator.apply(.stop(agentID: 3))
            try fixture.simulator.commit()
            #expect(try await waitUntil { ((try? fixture.store.stats().lastSeq) ?? 0) > 0 })
        }
        let base = try AgentSnapshot(exported: #require(try fixture.store.loadSnapshot()))
        #expect(base.record(id: 3)?.status == .active)
        let delta = try #require(try fixture.store.metaValue(JournaledSnapshot.deltaKey))
        #expect(delta.utf8.count < 2_000)
        #expect(try fixture.journaledStatus(of: 3) == .disconnected)
        let journaled = try fixture.store.stats().lastSeq
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            let read = try await fixture.waitForReads(1)
            #expect(read)
        }
        #expect(try fixture.store.stats().lastSeq == journaled)
        #expect(try fixture.journaledStatus(of: 3) == .disconnected)
    }

    /// The observer (the daemon's `events_detected_total`) hears of each detection's changes once
    /// they are journaled, and not of the baseline.
    @Test func theObserverHearsOfJournaledChangesOnly() async throws {
        let fixture = try Fixture()
        let heard = Mutex<[[AgentChange]]>([])
        let service = try fixture.makeService(logger: logger) { changes in heard.withLock { $0.append(changes) } }
        try await withRunningService(service, logger: logger) {
            #expect(try await waitUntil { (try? fixture.store.loadSnapshot()) != nil })
            fixture.simulator.now += 10
            try fixture.simulator.apply(.stop(agentID: 2))
            try fixture.simulator.apply(.register)
            try fixture.simulator.commit()
            #expect(try await waitUntil { heard.withLock { !$0.isEmpty } })
            // Once heard, the rows are already in the journal.
            #expect(try fixture.store.stats().lastSeq > 0)
        }
        let batches = heard.withLock { $0 }
        #expect(batches.count == 1)
        #expect(batches.first?.map(\.kind) == [.statusChange, .registered])
    }

    @Test func failedPersistIsRetriedWithoutLosingTheDiff() async throws {
        let fixture = try Fixture()
        let logs = LogCapture()
        try await withRunningService(try fixture.makeService(logger: logs.logger()), logger: logger) {
            #expect(try await waitUntil { (try? fixture.store.loadSnapshot()) != nil })
            // Every journal insert now fails inside the outbox transaction.
            try fixture.sqlite(
                "CREATE TRIGGER inject_failure BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'injected'); END;")
            fixture.simulator.now += 10
            try fixture.simulator.apply(.stop(agentID: 2))
            try fixture.simulator.commit()
            // The change was seen and its journaling failed (twice: it is being retried).
            #expect(
                try await waitUntil(timeout: .seconds(20)) {
                    logs.all.filter { $0.contains("journaling detected changes failed") }.count >= 2
                })
            // Nothing half-written: no rows, and the snapshot still holds the old state.
            #expect(try fixture.store.stats().lastSeq == 0)
            #expect(try fixture.journaledStatus(of: 2) == .active)
            try fixture.sqlite("DROP TRIGGER inject_failure;")
            #expect(try await waitUntil { ((try? fixture.store.stats().lastSeq) ?? 0) > 0 })
            #expect(try fixture.journaledStatus(of: 2) == .disconnected)
        }
        #expect(
            try fixture.journaledSubjects() == [
                "test.agent.002.status", "test.agent.002.disconnected", "test.security.agent_events",
            ])
    }

    @Test func changesMadeWhileStoppedAreJournaledOnTheNextStart() async throws {
        let fixture = try Fixture()
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            let baselined = try await waitUntil { (try? fixture.store.loadSnapshot()) != nil }
            #expect(baselined)
        }
        fixture.simulator.now += 10
        try fixture.simulator.apply(.stop(agentID: 5))
        try fixture.simulator.apply(.register)
        try fixture.simulator.commit()
        #expect(try fixture.store.stats().lastSeq == 0)
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            let journaled = try await waitUntil { ((try? fixture.store.stats().lastSeq) ?? 0) > 0 }
            #expect(journaled)
        }
        let subjects = try fixture.journaledSubjects()
        #expect(subjects.contains("test.agent.005.status"))
        #expect(subjects.contains("test.agent.005.disconnected"))
        #expect(subjects.contains("test.agent.011.registered"))
        #expect(try fixture.journaledStatus(of: 5) == .disconnected)
        #expect(try fixture.journaledStatus(of: 11) != nil)
    }

    @Test func theDeliveryWorkerIsWokenAfterJournaling() async throws {
        let fixture = try Fixture()
        try await withRunningService(try fixture.makeService(logger: logger), logger: logger) {
            #expect(try await waitUntil { (try? fixture.store.loadSnapshot()) != nil })
            // The baseline holds no events: no wake-up, even after the next read.
            #expect(try await fixture.waitForReads(2))
            #expect(!fixture.wake.isPending)

            let (wake, store) = (fixture.wake, fixture.store)
            let waiter = Task { () -> (Duration, Int64) in
                let start = ContinuousClock.now
                await wake.wait(timeout: .seconds(20))
                return (ContinuousClock.now - start, (try? store.stats().lastSeq) ?? -1)
            }
            // A wake-up before the waiter waits is kept, so the change need not wait for it.
            fixture.simulator.now += 10
            try fixture.simulator.apply(.stop(agentID: 7))
            try fixture.simulator.commit()
            let (elapsed, lastSeq) = await waiter.value
            #expect(elapsed < .seconds(10))
            // Woken after the rows were committed, never before.
            #expect(lastSeq == 3)
        }
    }
}
