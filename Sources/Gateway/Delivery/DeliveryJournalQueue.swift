import Dispatch
import Outbox
import Synchronization

/// Runs the delivery worker's journal calls on one serial dispatch queue — off Swift's cooperative pool,
/// in the order the worker made them — and marks acknowledged messages delivered in group commits.
///
/// ``recordDelivered(_:latencies:)`` never blocks: acknowledged rows join a buffer that is written in
/// one `markDelivered` transaction once it holds `groupSize` rows, or `groupDelay` after its first row
/// arrived, whichever comes first; while a group is being written the next one accumulates and the
/// worker keeps sending. Only rows handed in are ever marked, and the worker hands in only acknowledged
/// ones. Every other call (``read(_:)``, ``submit(_:)``, ``settle()``) first writes what is buffered, so
/// it sees every row handed in before it as delivered: a page read after a rewind never returns a row
/// already acknowledged. ``backlog`` (rows handed in, not yet written: what a crash would make the
/// worker resend) lets the worker stop sending while it is too large.
///
/// One producer: the worker's loop. Write outcomes are reported through `recorded` / `failed`, called
/// on the queue.
final class DeliveryJournalQueue: Sendable {
    typealias Mark = (seq: Int64, streamSequence: UInt64?)

    /// One group of acknowledged rows, written (or not) in one transaction.
    struct Group: Sendable {
        var marks: [Mark]
        var latencies: [Duration]
    }

    private struct State {
        var marks: [Mark] = []
        var latencies: [Duration] = []
        var writeScheduled = false
        var delayedWriteScheduled = false
        var unwritten = 0
    }

    private let journal: any DeliveryJournal
    private let queue: DispatchQueue
    private let state = Mutex(State())
    private let groupSize: Int
    private let groupDelay: Duration
    private let now: @Sendable () -> Int64
    private let recorded: @Sendable (Group) -> Void
    private let failed: @Sendable (Group, any Error) -> Void

    /// - Parameters:
    ///   - groupSize: rows that trigger a write at once.
    ///   - groupDelay: how long a smaller group waits for more rows before it is written anyway.
    ///   - now: the time written as `delivered_at` (Unix epoch milliseconds).
    ///   - recorded: called on the queue after a group was committed.
    ///   - failed: called on the queue when a group could not be written (its rows stay pending and are
    ///     resent later; JetStream drops the duplicates).
    init(
        journal: any DeliveryJournal, groupSize: Int, groupDelay: Duration = .milliseconds(10),
        label: String = "delivery.journal",
        now: @escaping @Sendable () -> Int64 = { DeliveryWorker.epochMilliseconds() },
        recorded: @escaping @Sendable (Group) -> Void, failed: @escaping @Sendable (Group, any Error) -> Void
    ) {
        self.journal = journal
        self.queue = DispatchQueue(label: label)
        self.groupSize = max(1, groupSize)
        self.groupDelay = groupDelay
        self.now = now
        self.recorded = recorded
        self.failed = failed
    }

    /// Acknowledged rows handed in and not yet written.
    var backlog: Int { state.withLock { $0.unwritten } }

    /// Hands in acknowledged rows (in acknowledgement order) to be marked delivered; returns at once.
    func recordDelivered(_ marks: [Mark], latencies: [Duration]) {
        guard !marks.isEmpty else { return }
        let (now, later) = state.withLock { state -> (Bool, Bool) in
            state.marks.append(contentsOf: marks)
            state.latencies.append(contentsOf: latencies)
            state.unwritten += marks.count
            if state.marks.count >= groupSize && !state.writeScheduled {
                state.writeScheduled = true
                return (true, false)
            }
            if !state.writeScheduled && !state.delayedWriteScheduled {
                state.delayedWriteScheduled = true
                return (false, true)
            }
            return (false, false)
        }
        if now {
            queue.async { self.writeBuffered() }
        } else if later {
            let nanoseconds = Int(Backoff.nanoseconds(groupDelay))
            queue.asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                self.state.withLock { $0.delayedWriteScheduled = false }
                self.writeBuffered()
            }
        }
    }

    /// Runs `body` on the queue after everything handed in before is written, and returns its result.
    func read<T: Sendable>(_ body: @escaping @Sendable (any DeliveryJournal) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                self.writeBuffered()
                continuation.resume(with: Result { try body(self.journal) })
            }
        }
    }

    /// Runs `body` on the queue after everything handed in before is written, without waiting for it.
    func submit(_ body: @escaping @Sendable (any DeliveryJournal) -> Void) {
        queue.async {
            self.writeBuffered()
            body(self.journal)
        }
    }

    /// Waits until everything handed in before has been written (or has failed).
    func settle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.writeBuffered()
                continuation.resume()
            }
        }
    }

    /// Writes every buffered row in one transaction (on the queue).
    private func writeBuffered() {
        let group = state.withLock { state -> Group? in
            state.writeScheduled = false
            guard !state.marks.isEmpty else { return nil }
            defer {
                state.marks = []
                state.latencies = []
            }
            return Group(marks: state.marks, latencies: state.latencies)
        }
        guard let group else { return }
        let outcome = Result { try journal.markDelivered(group.marks, at: now()) }
        state.withLock { $0.unwritten -= group.marks.count }
        switch outcome {
        case .success:
            recorded(group)
        case .failure(let error):
            failed(group, error)
        }
    }
}
