import NIOConcurrencyHelpers

/// A counting semaphore bounding outstanding pipelined publishes; waiters are served first come, first served.
///
/// Every permit is released when its request completes, and every request has a deadline, so a waiter never
/// waits longer than the oldest outstanding request's timeout.
final class PublishWindow: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>

    init(size: Int) {
        self.state = NIOLockedValueBox(State(available: max(1, size)))
    }

    /// Permits currently free.
    var available: Int {
        self.state.withLockedValue { $0.available }
    }

    /// Takes one permit, suspending while none is free. Throws `CancellationError` when the task is cancelled.
    func acquire() async throws {
        let (acquired, id): (Bool, UInt64) = self.state.withLockedValue { state in
            if state.available > 0, state.waiters.isEmpty {
                state.available -= 1
                return (true, 0)
            }
            state.nextID += 1
            return (false, state.nextID)
        }
        if acquired { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Bool? = self.state.withLockedValue { state in
                    if state.cancelled.remove(id) != nil { return false }
                    if state.available > 0, state.waiters.isEmpty {
                        state.available -= 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                switch outcome {
                case .some(true): continuation.resume()
                case .some(false): continuation.resume(throwing: CancellationError())
                case .none: break
                }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, any Error>? = self.state.withLockedValue { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Returns one permit, waking the longest waiter.
    func release() {
        let waiter: CheckedContinuation<Void, any Error>? = self.state.withLockedValue { state in
            if !state.waiters.isEmpty {
                return state.waiters.removeFirst().continuation
            }
            state.available += 1
            return nil
        }
        waiter?.resume()
    }
}
