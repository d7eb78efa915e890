import Foundation
import Synchronization
import Testing

@testable import Gateway

/// The delivery worker's journal queue: group commits of acknowledged rows, ordered with every other call.
struct DeliveryJournalQueueTests {
    /// Records what the queue reports, from its own thread.
    final class Reports: Sendable {
        private let groups = Mutex<[[Int64]]>([])
        private let failures = Mutex<[[Int64]]>([])

        var recorded: [[Int64]] { groups.withLock { $0 } }
        var failed: [[Int64]] { failures.withLock { $0 } }

        func queue(_ journal: InMemoryJournal, groupSize: Int, groupDelay: Duration) -> DeliveryJournalQueue {
            DeliveryJournalQueue(
                journal: journal, groupSize: groupSize, groupDelay: groupDelay,
                recorded: { group in self.groups.withLock { $0.append(group.marks.map(\.seq)) } },
                failed: { group, _ in self.failures.withLock { $0.append(group.marks.map(\.seq)) } })
        }
    }

    /// A gate the journal's writes wait at until it is opened.
    final class Gate: Sendable {
        private let state = Mutex((entered: 0, open: false))

        var entered: Int { state.withLock { $0.entered } }

        func pass() {
            state.withLock { $0.entered += 1 }
            while !state.withLock({ $0.open }) { usleep(1000) }
        }

        func open() { state.withLock { $0.open = true } }
    }

    func journal(rows: Int) -> InMemoryJournal {
        let journal = InMemoryJournal()
        for index in 1...rows {
            journal.append(subject: "test.agent.001.status", messageID: "evt-\(index)", payload: [1])
        }
        return journal
    }

    func marks(_ range: ClosedRange<Int64>) -> [(seq: Int64, streamSequence: UInt64?)] {
        range.map { (seq: $0, streamSequence: UInt64($0 + 100)) }
    }

    @Test func acknowledgementsArrivingDuringAWriteAreMarkedInTheNextSingleTransaction() async throws {
        let journal = journal(rows: 1000)
        let gate = Gate()
        journal.onMarkDelivered { _ in gate.pass() }
        let reports = Reports()
        let queue = reports.queue(journal, groupSize: 64, groupDelay: .milliseconds(1))
        queue.recordDelivered(marks(1...10), latencies: [])
        #expect(try await waitUntil { gate.entered == 1 })
        // The first group is being written: 99 hand-overs of 10 rows pile up behind it.
        for start in stride(from: Int64(11), through: 991, by: 10) {
            queue.recordDelivered(marks(start...(start + 9)), latencies: [])
        }
        #expect(queue.backlog == 1000)
        gate.open()
        await queue.settle()
        #expect(journal.markedGroups.map(\.count) == [10, 990])
        #expect(journal.markedGroups.joined().elementsEqual(1...1000))
        #expect(reports.recorded.map(\.count) == [10, 990])
        #expect(queue.backlog == 0)
        #expect(journal.snapshot.filter { !$0.delivered }.isEmpty)
        #expect(journal.snapshot.map(\.streamSequence) == (1...1000).map { UInt64($0 + 100) })
    }

    @Test func aFullGroupIsWrittenAtOnceAndASmallerOneAfterTheDelay() async throws {
        let journal = journal(rows: 200)
        let reports = Reports()
        let queue = reports.queue(journal, groupSize: 64, groupDelay: .milliseconds(300))
        let started = ContinuousClock.now
        queue.recordDelivered(marks(1...64), latencies: [])
        #expect(try await waitUntil { journal.markedGroups.count == 1 })
        #expect(ContinuousClock.now - started < .milliseconds(250))
        queue.recordDelivered(marks(65...70), latencies: [])
        try await Task.sleep(for: .milliseconds(100))
        #expect(journal.markedGroups.count == 1)  // still waiting for more rows
        #expect(try await waitUntil { journal.markedGroups.count == 2 })
        #expect(journal.markedGroups == [Array(1...64), Array(65...70)])
    }

    @Test func everyOtherCallSeesTheRowsHandedInBeforeItAsDelivered() async throws {
        let journal = journal(rows: 20)
        let reports = Reports()
        let queue = reports.queue(journal, groupSize: 1000, groupDelay: .seconds(60))
        // Rows 3...7 acknowledged after a failure at 2: a rewind reads from 2 on and must not get them back.
        queue.recordDelivered(marks(3...7), latencies: [])
        let page = try await queue.read { try $0.pendingMessages(afterSeq: 1, limit: 10) }
        #expect(page.map(\.seq) == [2, 8, 9, 10, 11, 12, 13, 14, 15, 16])
        queue.recordDelivered(marks(8...9), latencies: [])
        let seen = Mutex<[Int64]>([])
        queue.submit { _ in
            seen.withLock { $0 = journal.snapshot.filter(\.delivered).map(\.message.seq) }
        }
        await queue.settle()
        #expect(seen.withLock { $0 } == Array(3...9))
        #expect(journal.markedGroups == [Array(3...7), [8, 9]])
    }

    @Test func aFailedWriteLeavesItsRowsPendingAndIsReported() async throws {
        struct DiskFull: Error {}
        let journal = journal(rows: 10)
        journal.onMarkDelivered { seqs in if seqs.contains(5) { throw DiskFull() } }
        let reports = Reports()
        let queue = reports.queue(journal, groupSize: 3, groupDelay: .seconds(60))
        queue.recordDelivered(marks(1...3), latencies: [])
        await queue.settle()
        queue.recordDelivered(marks(4...6), latencies: [])
        await queue.settle()
        queue.recordDelivered(marks(7...8), latencies: [])
        await queue.settle()
        #expect(reports.recorded == [[1, 2, 3], [7, 8]])
        #expect(reports.failed == [[4, 5, 6]])
        #expect(queue.backlog == 0)
        #expect(try journal.pendingMessages(afterSeq: 0, limit: 10).map(\.seq) == [4, 5, 6, 9, 10])
    }
}
