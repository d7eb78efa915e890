import Foundation
import Synchronization
import Timekeeping
import WazuhSource

/// The in-process state behind the operator dashboard: detection, delivery, the NATS link and the
/// status reporter record into it (next to the metrics they record), the dashboard's HTTP routes
/// read `snapshot()` and wait on `updates()`.
///
/// Bounded whatever the load: the last `eventCapacity` transitions, `minutes` per-minute buckets,
/// `rateWindow` per-second delivery buckets and the last `latencyCapacity` ack latencies. Wall time
/// comes from the injected `now` so tests can move it.
public final class DashboardState: Sendable {
    struct State {
        var snapshot = DashboardSnapshot()
        /// Newest last; trimmed to `eventCapacity`.
        var events: [DashboardSnapshot.Event] = []
        /// Counts per cluster node, by manager (the snapshot's `nodes` merges them).
        var nodesByManager: [String: [String: FleetCounts]] = [:]
        var minutes: [DashboardSnapshot.MinuteBucket] = []
        /// (Unix second, messages acknowledged in it).
        var deliveredPerSecond: [(second: Int64, count: Int)] = []
        var latencies = LatencyRing(capacity: 512)
        var subscribers: [UInt64: AsyncStream<Void>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        var closed = false
    }

    public let eventCapacity: Int
    public let minutes: Int
    public let rateWindowSeconds: Int
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    /// - Parameter managerNodes: every watched manager in configuration order (default: `managerNode` alone).
    public init(
        managerNode: String, managerNodes: [String]? = nil, gatewayVersion: String, eventCapacity: Int = 50,
        minutes: Int = 30,
        rateWindowSeconds: Int = 10, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.eventCapacity = max(1, eventCapacity)
        self.minutes = max(1, minutes)
        self.rateWindowSeconds = max(1, rateWindowSeconds)
        self.now = now
        let started = Self.milliseconds(now())
        self.state.withLock { state in
            state.snapshot.managerNode = managerNode
            state.snapshot.gatewayVersion = gatewayVersion
            state.snapshot.startedAt = started
            state.snapshot.managers = (managerNodes ?? [managerNode]).map(DashboardSnapshot.Manager.init(node:))
        }
    }

    // MARK: Recording

    /// Manager `manager`'s fleet (the first manager's when nil) as of its latest read: totals and
    /// counts per cluster node. The snapshot's `fleet` and `nodes` are every manager's together.
    public func recordFleet(counts: FleetCounts, nodes: [String: FleetCounts], manager: String? = nil) {
        self.mutate { state in
            let index = Self.managerIndex(manager, in: &state)
            state.snapshot.managers[index].fleet = Self.counts(counts)
            state.nodesByManager[state.snapshot.managers[index].node] = nodes
            Self.mergeFleets(&state)
        }
    }

    /// The fleet from a confirmed snapshot's records (agent 000 is never among them).
    public func recordFleet(_ records: [AgentRecord], manager: String? = nil) {
        let nodes = Self.nodeCounts(records)
        self.recordFleet(counts: Self.sum(nodes.values), nodes: nodes, manager: manager)
    }

    /// Transitions journaled by one detection cycle of `manager` (the first manager's when nil).
    public func recordTransitions(_ changes: [AgentChange], manager: String? = nil) {
        guard !changes.isEmpty else { return }
        let time = Self.milliseconds(self.now())
        let minute = time - time % 60_000
        self.mutate { state in
            let index = Self.managerIndex(manager, in: &state)
            state.snapshot.managers[index].transitionsTotal += changes.count
            for change in changes {
                state.events.append(
                    DashboardSnapshot.Event(
                        agentID: Self.agentID(change.agentID), agentName: change.agentName, node: change.nodeName,
                        kind: change.kind.rawValue, previousStatus: change.previousStatus.rawValue,
                        currentStatus: change.currentStatus.rawValue, reason: change.reason?.rawValue,
                        detectedAt: time, manager: state.snapshot.managers[index].node))
            }
            if state.events.count > self.eventCapacity {
                state.events.removeFirst(state.events.count - self.eventCapacity)
            }
            if let last = state.minutes.last, last.minute == minute {
                state.minutes[state.minutes.count - 1].transitions += changes.count
            } else {
                state.minutes.append(.init(minute: minute, transitions: changes.count))
            }
            self.trimMinutes(&state, now: time)
        }
    }

    /// Messages acknowledged, with their publish → ack latencies.
    public func recordDelivered(count: Int, ackLatencies: [Duration]) {
        let second = Self.milliseconds(self.now()) / 1000
        self.mutate { state in
            state.snapshot.delivery.deliveredTotal += count
            if let last = state.deliveredPerSecond.last, last.second == second {
                state.deliveredPerSecond[state.deliveredPerSecond.count - 1].count += count
            } else {
                state.deliveredPerSecond.append((second, count))
            }
            state.deliveredPerSecond.removeAll { $0.second <= second - Int64(self.rateWindowSeconds) }
            for latency in ackLatencies {
                state.latencies.append(latency.fractionalMilliseconds)
            }
        }
    }

    /// A failed publish attempt; `message` must hold no secret (a `DeliveryFailure` description).
    public func recordAttemptFailed(_ message: String) {
        self.mutate { state in
            state.snapshot.delivery.failedAttemptsTotal += 1
            state.snapshot.delivery.lastFailure = message
        }
    }

    public func recordParked() {
        self.mutate { $0.snapshot.delivery.parkedTotal += 1 }
    }

    /// `closed`, `half_open` or `open`.
    public func recordBreaker(_ state: String) {
        self.mutate { $0.snapshot.delivery.breaker = state }
    }

    public func recordOutbox(depth: Int, oldestPendingAgeSeconds: Int64?) {
        self.mutate { state in
            state.snapshot.outbox.depth = depth
            state.snapshot.outbox.oldestPendingAgeSeconds = oldestPendingAgeSeconds ?? 0
        }
    }

    /// The NATS link's state; `server` etc. are kept from the last connection while disconnected.
    public func recordNATS(
        connected: Bool, server: String? = nil, serverName: String? = nil, serverVersion: String? = nil,
        reconnected: Bool = false
    ) {
        self.mutate { state in
            state.snapshot.nats.connected = connected
            if let server { state.snapshot.nats.server = server }
            if let serverName { state.snapshot.nats.serverName = serverName }
            if let serverVersion { state.snapshot.nats.serverVersion = serverVersion }
            if reconnected { state.snapshot.nats.reconnects += 1 }
        }
    }

    /// Manager `manager`'s source health (the first manager's when nil).
    public func recordSource(_ health: SourceHealth, manager: String? = nil) {
        let source = DashboardSnapshot.Source(
            healthy: health.isHealthy,
            lastSuccessfulRead: health.lastSuccessfulRead.map(Self.milliseconds),
            lastError: health.consecutiveFailures > 0 ? health.lastError?.description : nil,
            consecutiveFailures: health.consecutiveFailures, successfulReads: health.successfulReads)
        self.mutate { state in
            let index = Self.managerIndex(manager, in: &state)
            state.snapshot.managers[index].source = source
            if index == 0 { state.snapshot.source = source }
        }
    }

    // MARK: Reading

    /// The current state, with rate and latency figures computed now.
    public func snapshot() -> DashboardSnapshot {
        let time = Self.milliseconds(self.now())
        return self.state.withLock { state in
            self.trimMinutes(&state, now: time)
            var snapshot = state.snapshot
            snapshot.now = time
            snapshot.events = state.events.reversed()
            snapshot.transitionsPerMinute = state.minutes
            let second = time / 1000
            let window = Int64(self.rateWindowSeconds)
            let recent = state.deliveredPerSecond.filter { $0.second > second - window }.reduce(0) { $0 + $1.count }
            snapshot.delivery.ratePerSecond = Double(recent) / Double(window)
            snapshot.delivery.rateWindowSeconds = self.rateWindowSeconds
            let sorted = state.latencies.values.sorted()
            snapshot.delivery.ackLatencyP50Milliseconds = Self.quantile(sorted, 0.5)
            snapshot.delivery.ackLatencyP99Milliseconds = Self.quantile(sorted, 0.99)
            snapshot.delivery.ackLatencyMaxMilliseconds = sorted.last
            return snapshot
        }
    }

    /// Yields once after each change (changes in between coalesce into one element); finishes when
    /// the state is closed or the consumer goes away.
    public func updates() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id: UInt64? = self.state.withLock { state in
            guard !state.closed else { return nil }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Open `updates()` streams.
    public var subscriberCount: Int { self.state.withLock { $0.subscribers.count } }

    /// Finishes every `updates()` stream, now and later (graceful shutdown of the HTTP server).
    public func close() {
        let continuations = self.state.withLock { state in
            state.closed = true
            defer { state.subscribers.removeAll() }
            return Array(state.subscribers.values)
        }
        for continuation in continuations { continuation.finish() }
    }

    // MARK: Helpers

    private func mutate(_ body: (inout State) -> Void) {
        let continuations = self.state.withLock { state in
            body(&state)
            state.snapshot.version += 1
            return Array(state.subscribers.values)
        }
        for continuation in continuations { continuation.yield() }
    }

    private func trimMinutes(_ state: inout State, now: Int64) {
        let oldest = now - now % 60_000 - Int64(self.minutes - 1) * 60_000
        state.minutes.removeAll { $0.minute < oldest }
    }

    static func counts(_ counts: FleetCounts) -> DashboardSnapshot.Counts {
        var result = DashboardSnapshot.Counts()
        result.total = counts.total
        result.active = counts.active
        result.disconnected = counts.disconnected
        result.pending = counts.pending
        result.neverConnected = counts.neverConnected
        return result
    }

    /// Counts per cluster node of `records` (`-` for agents without a node).
    public static func nodeCounts(_ records: [AgentRecord]) -> [String: FleetCounts] {
        var result: [String: FleetCounts] = [:]
        for record in records {
            let node = record.nodeName ?? "-"
            var counts = result[node] ?? FleetCounts()
            counts.total += 1
            switch record.status {
            case .active: counts.active += 1
            case .disconnected: counts.disconnected += 1
            case .pending: counts.pending += 1
            case .neverConnected: counts.neverConnected += 1
            case .unknown: break
            }
            result[node] = counts
        }
        return result
    }

    static func agentID(_ id: Int) -> String {
        let digits = String(id)
        return digits.count >= 3 ? digits : String(repeating: "0", count: 3 - digits.count) + digits
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let index = min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))
        return sorted[index]
    }
}

/// The last `capacity` values appended.
struct LatencyRing {
    let capacity: Int
    private(set) var values: [Double] = []
    private var next = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    mutating func append(_ value: Double) {
        if self.values.count < self.capacity {
            self.values.append(value)
        } else {
            self.values[self.next] = value
        }
        self.next = (self.next + 1) % self.capacity
    }
}
