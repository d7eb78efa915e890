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
    private struct SourceState {
        var lastSuccessfulRead: Duration?
        var lastReadError: String?
        var sourceKind: String?
    }

    private struct State {
        var natsConnected = false
        /// Keyed by manager node; "" is the single `wazuh:` manager.
        var sources: [String: SourceState] = ["": SourceState()]
        var order: [String] = [""]
        /// Why the last detection cycle could not be journaled (the outbox is shared by every manager).
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
        self.init(
            maximumSourceAge: Self.maximumSourceAge(
                pollInterval: configuration.watchedManagers.map(\.pollInterval).max()
                    ?? configuration.wazuh.pollInterval))
        if configuration.hasManagerList { self.expectSources(managers: configuration.managers.map(\.managerNode)) }
    }

    /// `3 × poll_interval + 10s`.
    public static func maximumSourceAge(pollInterval: Duration) -> Duration {
        pollInterval * 3 + .seconds(10)
    }

    public func setNATSConnected(_ connected: Bool) {
        self.withState { $0.natsConnected = connected }
    }

    /// Checks one source per manager named here (a `managers:` list), each reported in `/readyz`
    /// as `source[{node}]: …`, instead of the single unnamed one.
    public func expectSources(managers: [String]) {
        self.withState { state in
            state.order = managers
            state.sources = Dictionary(uniqueKeysWithValues: managers.map { ($0, SourceState()) })
        }
    }

    /// - Parameter manager: the manager's node with `managers:`; nil for the single manager.
    public func recordSourceReadSuccess(manager: String? = nil) {
        let time = self.now()
        self.withSource(manager) {
            $0.lastSuccessfulRead = time
            $0.lastReadError = nil
        }
    }

    /// Records the source reads use now (`file`, `wazuh-db`; `nil` before the first read).
    public func recordSourceKind(_ kind: String?, manager: String? = nil) {
        self.withSource(manager) { $0.sourceKind = kind }
    }

    /// Records a failed read; `message` is shown in `/readyz` and must hold no secret.
    public func recordSourceReadFailure(_ message: String, manager: String? = nil) {
        self.withSource(manager) { $0.lastReadError = message }
    }

    private func withSource(_ manager: String?, _ body: (inout SourceState) -> Void) {
        self.withState { state in
            let key = manager ?? ""
            guard var source = state.sources[key] else { return }
            body(&source)
            state.sources[key] = source
        }
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
        var kinds: [String] = []
        for name in state.order {
            guard let source = state.sources[name] else { continue }
            let label = name.isEmpty ? "source" : "source[\(name)]"
            if let kind = source.sourceKind { kinds.append(name.isEmpty ? kind : "\(name)=\(kind)") }
            if let last = source.lastSuccessfulRead {
                let age = time - last
                if age > self.maximumSourceAge {
                    var problem = "\(label): last successful read \(age.components.seconds)s ago"
                    if let error = source.lastReadError {
                        problem += ": \(error)"
                    }
                    problems.append(problem)
                }
            } else {
                problems.append("\(label): no successful read yet" + (source.lastReadError.map { ": \($0)" } ?? ""))
            }
        }
        return ReadinessReport(problems: problems, source: kinds.isEmpty ? nil : kinds.joined(separator: ", "))
    }

    private func withState<Result>(_ body: (inout State) -> Result) -> Result {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(&self.state)
    }
}
