import Synchronization
import Timekeeping

/// The drain time of a graceful shutdown, the one deadline the ``DeliveryWorker`` stops at.
///
/// Not started until the shutdown begins (``start(deadline:)``); from then on the worker's loop,
/// its backoff sleeps and every wait run through ``bounded(_:)`` end once the deadline is reached.
/// A bounded wait that began before the shutdown ends too: a lost acknowledgement must not hold the
/// shutdown for a whole ack timeout. ``expire()`` ends the drain time early (a wait found it over).
final class DrainDeadline: Sendable {
    /// How a bounded wait ended.
    enum Outcome: Sendable {
        case acknowledged(UInt64?)
        case failed(any Error)
        case deadlinePassed
    }

    private struct State {
        var deadline: ContinuousClock.Instant?
        var expired = false
        var current: ResumeOnce?
        var timer: Task<Void, Never>?
    }

    private let state = Mutex(State())
    private let clock: any GatewayClock

    init(clock: any GatewayClock) {
        self.clock = clock
    }

    /// Whether a graceful shutdown began.
    var isDraining: Bool { state.withLock { $0.deadline != nil } }

    /// Whether the drain time is over.
    var isOver: Bool {
        let (deadline, expired) = state.withLock { ($0.deadline, $0.expired) }
        guard let deadline else { return false }
        return expired || clock.now >= deadline
    }

    /// Time left to drain, `nil` while not draining.
    var remaining: Duration? {
        let (deadline, expired) = state.withLock { ($0.deadline, $0.expired) }
        guard let deadline else { return nil }
        return expired ? .zero : max(.zero, deadline - clock.now)
    }

    /// Starts the drain time (once; later calls keep the first deadline) and ends every bounded
    /// wait when it is over.
    func start(deadline: ContinuousClock.Instant) {
        let first = state.withLock { state in
            guard state.deadline == nil else { return false }
            state.deadline = deadline
            return true
        }
        guard first else { return }
        let clock = self.clock
        let timer = Task {
            guard (try? await clock.sleep(until: deadline)) != nil else { return }
            self.expire()
        }
        state.withLock { $0.timer = timer }
    }

    /// Stops the timer of ``start(deadline:)`` (the worker stopped before the deadline).
    func cancelTimer() {
        state.withLock { state in
            defer { state.timer = nil }
            return state.timer
        }?.cancel()
    }

    /// Ends the drain time now (starting it if it had not started), and the wait in progress.
    func expire() {
        let now = clock.now
        let current = state.withLock { state in
            state.expired = true
            if state.deadline == nil { state.deadline = now }
            defer { state.current = nil }
            return state.current
        }
        current?.resume(.deadlinePassed)
    }

    /// Runs `work` (an acknowledgement wait, the stream setup, the final flush) in its own task and
    /// returns its outcome, or `.deadlinePassed` as soon as the drain time is over. An abandoned wait
    /// finishes detached (bounded by the transport's own timeout); its outcome is dropped.
    func bounded(_ work: @escaping @Sendable () async throws -> UInt64?) async -> Outcome {
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let once = ResumeOnce(continuation)
            register(once)
            Task {
                do {
                    once.resume(.acknowledged(try await work()))
                } catch {
                    once.resume(.failed(error))
                }
            }
        }
        state.withLock { $0.current = nil }
        return outcome
    }

    private func register(_ waiter: ResumeOnce) {
        let expired = state.withLock { state in
            if !state.expired { state.current = waiter }
            return state.expired
        }
        if expired { waiter.resume(.deadlinePassed) }
    }

    /// Resumes a continuation with the first outcome offered; later ones are dropped.
    private final class ResumeOnce: Sendable {
        private let continuation: Mutex<CheckedContinuation<Outcome, Never>?>

        init(_ continuation: CheckedContinuation<Outcome, Never>) {
            self.continuation = Mutex(continuation)
        }

        func resume(_ outcome: Outcome) {
            let pending = continuation.withLock { slot in
                defer { slot = nil }
                return slot
            }
            pending?.resume(returning: outcome)
        }
    }
}
