import Synchronization
import Timekeeping

/// A token bucket that keeps requests under a per-minute budget, timed by the injected clock.
///
/// The Wazuh API refuses more than `max_request_per_minute` (300 by default) requests a minute
/// with 429. The bucket holds `burst` tokens and refills at `(perMinute − burst) / 60 s`, so no
/// window of 60 seconds ever sees more than `perMinute` requests: at most `burst` from a full
/// bucket plus what refills in the window.
public final class RequestRateLimiter: Sendable {
    public let perMinute: Int
    public let burst: Int
    private let clock: any GatewayClock
    private struct State {
        var tokens: Double
        var updatedAt: ContinuousClock.Instant
    }
    private let state: Mutex<State>

    /// - Parameter perMinute: at least 1; the burst is a tenth of it (at least 1, at most half).
    public init(perMinute: Int, clock: any GatewayClock) {
        let perMinute = max(1, perMinute)
        self.perMinute = perMinute
        self.burst = max(1, min(perMinute / 10, perMinute / 2))
        self.clock = clock
        self.state = Mutex(State(tokens: Double(self.burst), updatedAt: clock.now))
    }

    /// Tokens gained per second.
    private var refillPerSecond: Double { Double(max(1, perMinute - burst)) / 60 }

    /// Waits until a request may be sent and takes its token.
    /// - Throws: `CancellationError` when cancelled while waiting.
    public func acquire() async throws(CancellationError) {
        while true {
            let wait: Duration? = state.withLock { state in
                let now = clock.now
                let elapsed = (now - state.updatedAt).fractionalSeconds
                state.tokens = min(Double(burst), state.tokens + elapsed * refillPerSecond)
                state.updatedAt = now
                if state.tokens >= 1 {
                    state.tokens -= 1
                    return nil
                }
                return .seconds((1 - state.tokens) / refillPerSecond)
            }
            guard let wait else { return }
            do {
                try await clock.sleep(for: wait)
            } catch {
                throw CancellationError()
            }
        }
    }

    /// Empties the bucket: after a 429 the server's window is full, so the next requests wait.
    public func drain() {
        state.withLock { state in
            state.tokens = 0
            state.updatedAt = clock.now
        }
    }
}
