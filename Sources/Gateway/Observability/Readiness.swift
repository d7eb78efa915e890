import Foundation

/// The outcome of a readiness check: ready when `problems` is empty.
public struct ReadinessReport: Sendable, Equatable {
    /// One line per problem, e.g. `nats: disconnected`.
    public var problems: [String]
    /// The agent status source in use (`file`, `wazuh-db`), when known; `/readyz` shows it.
    public var source: String?

    public init(problems: [String], source: String? = nil) {
        self.problems = problems
        self.source = source
    }

    public var isReady: Bool { self.problems.isEmpty }
}

/// What `/readyz` asks: the daemon wires in the real source health and NATS state.
public protocol ReadinessProbe: Sendable {
    func readiness() async -> ReadinessReport
}

/// A probe from a closure.
public struct ClosureReadinessProbe: ReadinessProbe {
    private let body: @Sendable () async -> ReadinessReport

    public init(_ body: @escaping @Sendable () async -> ReadinessReport) {
        self.body = body
    }

    public func readiness() async -> ReadinessReport {
        await self.body()
    }
}

/// The gateway's readiness: ready when NATS is connected, `global.db` was read successfully
/// within `maximumSourceAge`, and the last detection cycle could be journaled in the outbox. The
/// source reader, the NATS client and detection report into it; `/readyz` asks it.
///
/// Time comes from an injected monotonic clock (`now` returns the time since an arbitrary origin)
/// so tests can move time without sleeping.
public final class GatewayReadiness: ReadinessProbe, @unchecked Sendable {
    // @unchecked: all mutable state is in `state`, only touched while holding `lock`.
    private struct State {
        var natsConnected = false
        var lastSuccessfulRead: Duration?
        var lastReadError: String?
        var sourceKind: String?
        var outboxWriteFailure: String?
    }

    private let lock = NSLock()
    private var state = State()
    private let maximumSourceAge: Duration
    private let now: @Sendable () -> Duration

    /// - Parameters:
    ///   - maximumSourceAge: how old the last successful source read may be (e.g. 3 × poll interval).
    ///   - now: monotonic time since any fixed origin; defaults to the continuous clock.
    public init(maximumSourceAge: Duration, now: (@Sendable () -> Duration)? = nil) {
        self.maximumSourceAge = maximumSourceAge
        if let now {
            self.now = now
        } else {
            let origin = ContinuousClock.now
            self.now = { ContinuousClock.now - origin }
        }
    }

    /// The readiness the daemon uses: the source counts as stale after three missed polls plus
    /// 10 s of slack (file notifications usually trigger reads much sooner).
    public convenience init(configuration: GatewayConfiguration) {
        self.init(maximumSourceAge: Self.maximumSourceAge(pollInterval: configuration.wazuh.pollInterval))
    }

    /// `3 × poll_interval + 10s`.
    public static func maximumSourceAge(pollInterval: Duration) -> Duration {
        pollInterval * 3 + .seconds(10)
    }

    public func setNATSConnected(_ connected: Bool) {
        self.withState { $0.natsConnected = connected }
    }

    public func recordSourceReadSuccess() {
        let time = self.now()
        self.withState {
            $0.lastSuccessfulRead = time
            $0.lastReadError = nil
        }
    }

    /// Records the source reads use now (`file`, `wazuh-db`; `nil` before the first read).
    public func recordSourceKind(_ kind: String?) {
        self.withState { $0.sourceKind = kind }
    }

    /// Records a failed read; `message` is shown in `/readyz` and must hold no secret.
    public func recordSourceReadFailure(_ message: String) {
        self.withState { $0.lastReadError = message }
    }

    /// Records that journaling detected changes failed (`message` names the cause, e.g. a full disk,
    /// and holds no secret): `/readyz` reports `outbox: …` until ``recordOutboxWriteSuccess()``.
    public func recordOutboxWriteFailure(_ message: String) {
        self.withState { $0.outboxWriteFailure = message }
    }

    /// Records that a detection cycle was journaled again.
    public func recordOutboxWriteSuccess() {
        self.withState { $0.outboxWriteFailure = nil }
    }

    public func readiness() async -> ReadinessReport {
        let time = self.now()
        let state = self.withState { $0 }
        var problems: [String] = []
        if !state.natsConnected {
            problems.append("nats: disconnected")
        }
        if let failure = state.outboxWriteFailure {
            problems.append("outbox: detection paused: \(failure)")
        }
        if let last = state.lastSuccessfulRead {
            let age = time - last
            if age > self.maximumSourceAge {
                var problem = "source: last successful read \(age.components.seconds)s ago"
                if let error = state.lastReadError {
                    problem += ": \(error)"
                }
                problems.append(problem)
            }
        } else {
            problems.append("source: no successful read yet" + (state.lastReadError.map { ": \($0)" } ?? ""))
        }
        return ReadinessReport(problems: problems, source: state.sourceKind)
    }

    private func withState<Result>(_ body: (inout State) -> Result) -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(&self.state)
    }
}
