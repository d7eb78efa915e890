import Synchronization

extension DeliveryWorker {
    enum AcknowledgementOutcome: Sendable {
        case acknowledged(UInt64?)
        case failed(any Error)
        case deadlinePassed
    }

    /// Runs `work` (an acknowledgement wait, the stream setup, the final flush) in its own task and
    /// returns its outcome, or `.deadlinePassed` as soon as a graceful shutdown's drain time is over,
    /// even when the wait started before the shutdown: a lost acknowledgement must not hold the
    /// shutdown for a whole ack timeout. An abandoned wait finishes detached (bounded by the
    /// transport's own timeout); its outcome is dropped, the row stays pending.
    func boundedByDrainTime(
        _ work: @escaping @Sendable () async throws -> UInt64?
    ) async -> AcknowledgementOutcome {
        let outcome = await withCheckedContinuation {
            (continuation: CheckedContinuation<AcknowledgementOutcome, Never>) in
            let once = ResumeOnce(continuation)
            drainExpiry.register(once)
            Task {
                do {
                    once.resume(.acknowledged(try await work()))
                } catch {
                    once.resume(.failed(error))
                }
            }
        }
        drainExpiry.unregister()
        return outcome
    }

    /// Resumes a continuation with the first outcome offered; later ones are dropped.
    final class ResumeOnce: Sendable {
        private let continuation: Mutex<CheckedContinuation<AcknowledgementOutcome, Never>?>

        init(_ continuation: CheckedContinuation<AcknowledgementOutcome, Never>) {
            self.continuation = Mutex(continuation)
        }

        func resume(_ outcome: AcknowledgementOutcome) {
            let pending = continuation.withLock { slot in
                defer { slot = nil }
                return slot
            }
            pending?.resume(returning: outcome)
        }
    }

    /// Ends the wait in progress (and every later one) once the shutdown's drain time is over.
    final class DrainExpiry: Sendable {
        private struct State {
            var expired = false
            var current: ResumeOnce?
        }
        private let state = Mutex(State())

        func register(_ waiter: ResumeOnce) {
            let expired = state.withLock { state in
                if !state.expired { state.current = waiter }
                return state.expired
            }
            if expired { waiter.resume(.deadlinePassed) }
        }

        func unregister() {
            state.withLock { $0.current = nil }
        }

        func expire() {
            let current = state.withLock { state in
                state.expired = true
                defer { state.current = nil }
                return state.current
            }
            current?.resume(.deadlinePassed)
        }
    }
}
