import Synchronization

/// A clock that moves only when told to (``advance(by:)``), for tests: timers, backoffs and
/// deadlines fire exactly when the test says, and ``sleepers`` tells how many tasks wait on it (an
/// event to synchronise on instead of a fixed sleep). Wall time moves in step with monotonic time.
public final class ManualClock: GatewayClock {
    private struct Sleeper {
        var id: UInt64
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var offset: Duration = .zero
        var nextID: UInt64 = 0
        var sleepers: [Sleeper] = []
    }

    private let origin: ContinuousClock.Instant
    private let epochOrigin: Int64
    private let state = Mutex(State())

    /// Starts at the machine's monotonic now and at `epochMilliseconds` of wall time.
    public init(epochMilliseconds: Int64 = 1_700_000_000_000) {
        origin = ContinuousClock.now
        epochOrigin = epochMilliseconds
    }

    public var now: ContinuousClock.Instant { origin.advanced(by: state.withLock { $0.offset }) }

    public var epochMilliseconds: Int64 {
        epochOrigin + state.withLock { $0.offset }.wholeMilliseconds
    }

    /// Tasks suspended in ``sleep(until:)`` right now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if origin.advanced(by: state.offset) >= deadline { return .success(()) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let cancelled = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline is reached.
    public func advance(by duration: Duration) {
        let due = state.withLock { state -> [Sleeper] in
            state.offset += duration
            let now = origin.advanced(by: state.offset)
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
