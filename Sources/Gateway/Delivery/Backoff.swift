import Timekeeping

/// Exponential backoff with full jitter.
///
/// The delay before retry `n` (0-based) is a uniformly random duration in
/// `0 … min(cap, base · 2ⁿ)`. The random source is handed in, so tests can make it deterministic.
public struct Backoff: Sendable, Hashable {
    /// The ceiling for the first retry.
    public var base: Duration
    /// No delay ever exceeds this.
    public var cap: Duration

    /// - Precondition: `base` and `cap` are not negative.
    public init(base: Duration, cap: Duration) {
        precondition(base >= .zero && cap >= .zero, "backoff durations must not be negative")
        self.base = base
        self.cap = cap
    }

    /// The upper bound of the delay for retry `attempt`: `min(cap, base · 2^attempt)`, without overflow.
    public func ceiling(attempt: Int) -> Duration {
        let capNanos = cap.wholeNanoseconds
        let baseNanos = base.wholeNanoseconds
        guard baseNanos > 0 else { return .zero }
        let shift = max(0, attempt)
        // Doubling past the cap (or past 2^62 ns) changes nothing: stop early, so no overflow.
        var ceiling = baseNanos
        var step = 0
        while step < shift && ceiling < capNanos {
            if ceiling > Int64.max / 2 {
                ceiling = Int64.max
                break
            }
            ceiling *= 2
            step += 1
        }
        return .nanoseconds(min(ceiling, capNanos))
    }

    /// A random delay in `0 … ceiling(attempt:)`, drawn from `generator`.
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let upper = ceiling(attempt: attempt).wholeNanoseconds
        guard upper > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...upper, using: &generator))
    }

    /// A random delay in `0 … ceiling(attempt:)`, drawn from the system's random source.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
