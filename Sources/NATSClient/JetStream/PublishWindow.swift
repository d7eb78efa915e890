import NIOConcurrencyHelpers

/// A counting semaphore bounding outstanding pipelined publishes; waiters are served first come, first served.
///
/// Every permit is released when its request completes, and every request has a deadline, so a waiter never
/// waits longer than the oldest outstanding request's timeout.
///
/// Hysteresis: once a waiter is queued, releases only wake it when at least ``wakeThreshold`` permits are free
/// (or nothing is outstanding), so a publisher held at a full window resumes once per group of acks, not once
/// per ack.
final class PublishWindow: Sendable {
    private struct Waiter {
        var id: UInt64
        var wanted: Int
        var continuation: CheckedContinuation<Int, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>
    /// The number of permits.
    let size: Int
    /// Free permits needed before queued waiters are woken.
    let wakeThreshold: Int

    init(size: Int) {
        self.size = max(1, size)
        self.wakeThreshold = max(1, self.size / 8)
        self.state = NIOLockedValueBox(State(available: self.size))
    }

    /// Permits currently free.
    var available: Int {
        self.state.withLockedValue { $0.available }
    }

    /// Tasks suspended in ``acquire(upTo:)``, waiting for a permit.
    var waiting: Int {
        self.state.withLockedValue { $0.waiters.count }
    }

    /// Takes one permit, suspending while none is free. Throws `CancellationError` when the task is cancelled.
    func acquire() async throws {
        _ = try await self.acquire(upTo: 1)
    }

    /// Takes between 1 and `wanted` permits (as many as are free), suspending while none is free.
    /// Throws `CancellationError` when the task is cancelled while waiting.
    func acquire(upTo wanted: Int) async throws -> Int {
        let wanted = max(1, wanted)
        let (granted, id): (Int, UInt64) = self.state.withLockedValue { state in
            if state.available > 0, state.waiters.isEmpty {
                let granted = min(wanted, state.available)
                state.available -= granted
                return (granted, 0)
            }
            state.nextID += 1
            return (0, state.nextID)
        }
        if granted > 0 { return granted }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let outcome: Result<Int, any Error>? = self.state.withLockedValue { state in
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if state.available > 0, state.waiters.isEmpty {
                        let granted = min(wanted, state.available)
                        state.available -= granted
                        return .success(granted)
                    }
                    state.waiters.append(Waiter(id: id, wanted: wanted, continuation: continuation))
                    return nil
                }
                if let outcome {
                    continuation.resume(with: outcome)
                }
            }
        } onCancel: {
            let waiter: Waiter? = self.state.withLockedValue { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index)
                }
                state.cancelled.insert(id)
                return nil
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns `count` permits; wakes waiters in order once enough are free.
    func release(_ count: Int = 1) {
        let woken: [(CheckedContinuation<Int, any Error>, Int)] = self.state.withLockedValue { state in
            state.available += count
            guard !state.waiters.isEmpty,
                state.available >= self.wakeThreshold || state.available >= self.size
            else { return [] }
            var woken: [(CheckedContinuation<Int, any Error>, Int)] = []
            while state.available > 0, !state.waiters.isEmpty {
                let waiter = state.waiters.removeFirst()
                let granted = min(waiter.wanted, state.available)
                state.available -= granted
                woken.append((waiter.continuation, granted))
            }
            return woken
        }
        for (continuation, granted) in woken {
            continuation.resume(returning: granted)
        }
    }
}
