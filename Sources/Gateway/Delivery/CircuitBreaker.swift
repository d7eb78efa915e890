/// The state of a ``CircuitBreaker``.
public enum BreakerState: String, Sendable, Hashable, CustomStringConvertible {
    /// Attempts flow freely.
    case closed
    /// Attempts are refused until the cool-down has passed.
    case open
    /// The cool-down has passed: exactly one probe attempt is allowed.
    case halfOpen = "half_open"

    /// The value of the breaker-state gauge: 0 closed, 1 half-open, 2 open.
    public var metricValue: Int {
        switch self {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }

    public var description: String { rawValue }
}

/// A change of ``BreakerState``, reported so the caller can log it and update the gauge.
public struct BreakerTransition: Sendable, Hashable {
    public var from: BreakerState
    public var to: BreakerState

    public init(from: BreakerState, to: BreakerState) {
        self.from = from
        self.to = to
    }
}

/// A circuit breaker as a pure state machine: closed → open after `failureThreshold` consecutive
/// failures → half-open after `cooldown` (one probe) → closed on the probe's success, open again on its
/// failure.
///
/// Time is handed in as instants of any clock (`now:` parameters), so tests drive it with their own
/// instants and never sleep.
public struct CircuitBreaker<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Whether an attempt may start now.
    public enum Permission: Sendable, Hashable {
        /// Go ahead. `probe` is true when this is the single half-open probe.
        case allowed(probe: Bool, transition: BreakerTransition?)
        /// Not before `until`.
        case refused(until: Instant)
    }

    public let failureThreshold: Int
    public let cooldown: Duration
    public private(set) var state: BreakerState = .closed
    public private(set) var consecutiveFailures = 0
    private var openedAt: Instant?
    private var probeInFlight = false

    /// - Precondition: `failureThreshold >= 1`, `cooldown >= .zero`.
    public init(failureThreshold: Int, cooldown: Duration) {
        precondition(failureThreshold >= 1, "breaker failure threshold must be at least 1")
        precondition(cooldown >= .zero, "breaker cool-down must not be negative")
        self.failureThreshold = failureThreshold
        self.cooldown = cooldown
    }

    /// Asks to start an attempt at `now`. In the open state past the cool-down this moves to half-open
    /// and allows one probe; further requests are refused until that probe's outcome is recorded.
    public mutating func permit(now: Instant) -> Permission {
        switch state {
        case .closed:
            return .allowed(probe: false, transition: nil)
        case .open:
            let reopenAt = (openedAt ?? now).advanced(by: cooldown)
            guard now >= reopenAt else { return .refused(until: reopenAt) }
            state = .halfOpen
            probeInFlight = true
            return .allowed(probe: true, transition: BreakerTransition(from: .open, to: .halfOpen))
        case .halfOpen:
            if probeInFlight {
                return .refused(until: now.advanced(by: cooldown))
            }
            probeInFlight = true
            return .allowed(probe: true, transition: nil)
        }
    }

    /// Records a successful attempt: closes the breaker and resets the failure count.
    public mutating func recordSuccess() -> BreakerTransition? {
        consecutiveFailures = 0
        probeInFlight = false
        openedAt = nil
        guard state != .closed else { return nil }
        let transition = BreakerTransition(from: state, to: .closed)
        state = .closed
        return transition
    }

    /// Records a failed attempt at `now`: opens the breaker at the threshold, or again after a failed probe.
    public mutating func recordFailure(now: Instant) -> BreakerTransition? {
        consecutiveFailures += 1
        switch state {
        case .closed:
            guard consecutiveFailures >= failureThreshold else { return nil }
            state = .open
            openedAt = now
            return BreakerTransition(from: .closed, to: .open)
        case .halfOpen:
            probeInFlight = false
            state = .open
            openedAt = now
            return BreakerTransition(from: .halfOpen, to: .open)
        case .open:
            openedAt = now
            return nil
        }
    }
}
