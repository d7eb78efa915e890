import Logging
import Outbox
import Synchronization
import WazuhSource
import WireContract

/// Runs the ``AnomalyDetector`` and the ``AgentRateLimiter`` inside the detection service's outbox
/// transactions: each cycle's findings and flapping summaries are journaled with the events that caused
/// them and the state that changed (one `meta` delta per cycle holding only the agents it touched, see
/// ``AnomalyStateLog``), all in ONE transaction, and the secondary rows of condensed transitions are left
/// out of it. Restarts resume from the journaled state.
///
/// The state is mutated in place (a cycle costs what its changes cost, not what the state holds). When a
/// write fails, the state is rebuilt from the entries last written, so a retried cycle counts nothing
/// twice.
public final class AnomalyJournal: Sendable {
    /// The `meta` key of the detector's fleet-wide state.
    public static let stateKey = AnomalyDetector.fleetKey
    /// Every `meta` key the journal writes starts with this.
    public static let keyPrefix = "anomaly"

    struct State: Sendable {
        var detector: AnomalyDetector
        var limiter: AgentRateLimiter
        var log: AnomalyStateLog
        /// The entries as last journaled (what a failed write falls back to).
        var journaled: [String: String]
    }

    public let encoder: AnomalyEncoder
    public let thresholds: AnomalyThresholds
    public let rateLimit: AgentRateLimiter
    private let clock: @Sendable () -> Int64
    private let metrics: GatewayMetrics?
    private let logger: Logger
    /// Held across the journal write, so the check between cycles and a cycle never interleave.
    private let state: Mutex<State?>

    /// - Parameters:
    ///   - rateLimit: the (empty) limiter with its limit and window; limit 0 turns it off.
    ///   - clockMilliseconds: the clock for fleet silence, window ends and detection times (epoch ms).
    public init(
        encoder: AnomalyEncoder, thresholds: AnomalyThresholds,
        rateLimit: AgentRateLimiter = AgentRateLimiter(limit: 0, windowSeconds: 60), metrics: GatewayMetrics? = nil,
        logger: Logger, clockMilliseconds: @escaping @Sendable () -> Int64 = OutboxStore.wallClockMilliseconds
    ) {
        self.encoder = encoder
        self.thresholds = thresholds
        self.rateLimit = rateLimit
        self.clock = clockMilliseconds
        self.metrics = metrics
        self.logger = logger
        self.state = Mutex(nil)
    }

    /// The state the journaled `entries` describe.
    private func makeState(restoring entries: [String: String]) -> State {
        var log = AnomalyStateLog(restoring: entries)
        var limiter = self.rateLimit
        limiter.windows = log.windows
        let detector = AnomalyDetector(
            thresholds: self.thresholds, fleet: entries[AnomalyDetector.fleetKey],
            retired: entries[AnomalyDetector.retiredKey], tracks: log.tracks)
        // Handed over: the detector and the limiter own the state from here on.
        log.tracks = [:]
        log.windows = [:]
        return State(detector: detector, limiter: limiter, log: log, journaled: entries)
    }

    /// Restores the detector and the limiter from `store` (fresh ones when nothing was journaled).
    public func restore(from store: OutboxStore) {
        var entries: [String: String] = [:]
        do {
            entries = try store.metaValues(prefixes: [Self.keyPrefix])
        } catch {
            self.logger.error(
                "the journaled anomaly detector state is unreadable; starting afresh",
                metadata: ["outbox.error": "\(error)"])
        }
        let restored = self.makeState(restoring: entries)
        self.state.withLock { $0 = restored }
    }

    /// Learns a baseline snapshot (reports nothing).
    public func seed(with snapshot: AgentSnapshot) {
        let now = self.clock() / 1000
        let fresh = self.makeState(restoring: [:])
        self.state.withLock { state in
            if state == nil { state = fresh }
            state?.detector.seed(with: snapshot, nowSeconds: now)
        }
    }

    /// Feeds one cycle — its `changes` and the `rows` the detection encoder made for them — and calls
    /// `write` with the rows to journal in the cycle's transaction: the flapping summaries of windows this
    /// cycle closed, `rows` without the secondary rows of condensed transitions, then the anomaly rows;
    /// and the `meta` entries that changed. When `write` throws, the state goes back to what was
    /// journaled last.
    ///
    /// - Returns: the findings journaled.
    @discardableResult
    public func journalCycle(
        _ changes: [AgentChange], rows: [NewOutboxMessage], snapshot: AgentSnapshot, detectedAtMilliseconds: Int64,
        write: (_ rows: [NewOutboxMessage], _ meta: MetaUpdate) throws -> Void
    ) throws -> [AnomalyDetector.Finding] {
        let now = self.clock() / 1000
        return try self.state.withLock { slot in
            var state = slot.take() ?? self.makeState(restoring: [:])
            defer { slot = state }
            let findings = state.detector.observe(
                changes, snapshot: snapshot, managerNode: self.encoder.managerNode, nowSeconds: now)
            var summaryRows: [NewOutboxMessage] = []
            var condensedIDs: Set<String> = []
            if state.limiter.isEnabled {
                var summaries: [AgentRateLimiter.Summary] = []
                for change in changes {
                    let (condensed, closed) = state.limiter.admit(change)
                    if let closed { summaries.append(closed) }
                    if condensed {
                        condensedIDs.insert(
                            ManagerScope.scoped(
                                EventID.make(
                                    agentID: change.agentID, kind: change.kind.rawValue,
                                    previous: change.previousStatus.rawValue, current: change.currentStatus.rawValue,
                                    dateAdd: change.dateAdd, transitionTime: change.transitionTime),
                                by: self.encoder.scope))
                    }
                }
                // Windows this cycle's newest transition is past are over: summed up now, not on a timer.
                if let newest = changes.lazy.map(\.transitionTime).max() {
                    summaries += state.limiter.closeExpired(nowSeconds: newest)
                }
                summaryRows = self.encoder.messages(for: summaries, detectedAtMilliseconds: detectedAtMilliseconds)
            }
            // The cycle's rows are passed on as they are in the common case (no summary, nothing condensed,
            // no finding): no copy of a few hundred rows per cycle.
            var journaled =
                condensedIDs.isEmpty
                ? rows : rows.filter { !($0.kind == .secondary && condensedIDs.contains($0.eventID)) }
            if !summaryRows.isEmpty { journaled.insert(contentsOf: summaryRows, at: 0) }
            if !findings.isEmpty {
                journaled += self.encoder.messages(for: findings, detectedAtMilliseconds: detectedAtMilliseconds)
            }
            let update = Self.stateChanges(&state)
            do {
                try write(journaled, update)
            } catch {
                state = self.makeState(restoring: state.journaled)
                throw error
            }
            Self.apply(update, to: &state.journaled)
            self.metrics?.transitionsCondensed.increment(by: condensedIDs.count)
            self.log(findings)
            return findings
        }
    }

    /// The checks between cycles (fleet silence, hand stops past their grace, rate-limit windows the
    /// clock is past): journals what they find with the state that changed.
    ///
    /// - Returns: the findings journaled (the caller wakes the delivery worker).
    @discardableResult
    public func tick(store: OutboxStore) throws -> [AnomalyDetector.Finding] {
        let nowMilliseconds = self.clock()
        return try self.state.withLock { slot in
            guard var state = slot.take() else { return [] }
            defer { slot = state }
            let findings = state.detector.tick(nowSeconds: nowMilliseconds / 1000)
            let summaries = state.limiter.closeExpired(nowSeconds: nowMilliseconds / 1000)
            let update = Self.stateChanges(&state)
            guard !findings.isEmpty || !summaries.isEmpty || !update.isEmpty else { return [] }
            let rows =
                self.encoder.messages(for: summaries, detectedAtMilliseconds: nowMilliseconds)
                + self.encoder.messages(for: findings, detectedAtMilliseconds: nowMilliseconds)
            do {
                try store.appendMessages(rows, meta: update)
            } catch {
                state = self.makeState(restoring: state.journaled)
                throw error
            }
            Self.apply(update, to: &state.journaled)
            self.log(findings)
            return findings
        }
    }

    private static func stateChanges(_ state: inout State) -> MetaUpdate {
        let detector = state.detector.takeStateChanges()
        var update = state.log.record(
            tracks: detector.tracks, windows: state.limiter.takeChangedWindows(),
            current: (state.detector.tracks, state.limiter.windows))
        if let fleet = detector.fleet { update.values[AnomalyDetector.fleetKey] = fleet }
        if let retired = detector.retired { update.values[AnomalyDetector.retiredKey] = retired }
        return update
    }

    private static func apply(_ update: MetaUpdate, to entries: inout [String: String]) {
        for key in update.removed { entries[key] = nil }
        for (key, value) in update.values { entries[key] = value }
    }

    private func log(_ findings: [AnomalyDetector.Finding]) {
        for finding in findings {
            self.metrics?.anomalyDetected(type: finding.kind.rawValue)
            self.logger.notice(
                "anomaly detected",
                metadata: [
                    "anomaly.type": "\(finding.kind.rawValue)", "anomaly.id": "\(finding.eventID)",
                    "anomaly.observed": "\(finding.observed)", "anomaly.threshold": "\(finding.threshold)",
                    "wazuh.agent_id": "\(finding.agentID.map(String.init) ?? "-")",
                ])
        }
    }
}
