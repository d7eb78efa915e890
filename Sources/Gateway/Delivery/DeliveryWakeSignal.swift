import Synchronization
import Timekeeping

/// A coalescing wake-up from the detection service to the delivery worker: any number of `wake()`
/// calls while the worker is busy collapse into one; a wake-up that arrives before the worker waits is
/// not lost.
public final class DeliveryWakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// A wake-up arrived that no wait has taken yet.
    var isPending: Bool { state.withLock { $0.pending } }

    /// New rows landed in the outbox.
    public func wake() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Waits until woken, `timeout` of `clock`'s time elapses, or the task is cancelled. Only one task
    /// may wait at a time.
    public func wait(timeout: Duration, clock: any GatewayClock = SystemClock()) async {
        if state.withLock({ state in
            defer { state.pending = false }
            return state.pending
        }) {
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await clock.sleep(for: timeout)
                    self.wake()
                } catch {
                    // Cancelled because the wake-up came first: nothing to do.
                }
            }
            group.addTask {
                await self.suspendUntilWoken()
            }
            await group.next()
            group.cancelAll()
        }
    }

    private func suspendUntilWoken() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
