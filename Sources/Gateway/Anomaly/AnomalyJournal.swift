import Foundation
import Logging
import Outbox
import Synchronization
import WazuhSource
import WireContract

/// Runs the ``AnomalyDetector`` and the ``AgentRateLimiter`` inside the detection service's outbox
/// transactions: each cycle's findings and flapping summaries are journaled with the events that caused
/// them and both states (`meta` `anomaly_state`, `rate_limit_state`), all in ONE transaction, and the
/// secondary rows of condensed transitions are left out of it; the state in memory moves on only once
/// that committed, so a failed write that is retried counts nothing twice. Restarts resume from the
/// journaled state.
public final class AnomalyJournal: Sendable {
    /// The `meta` key of the detector's JSON state.
    public static let stateKey = "anomaly_state"
    /// The `meta` key of the rate limiter's JSON state.
    public static let rateLimitKey = "rate_limit_state"

    struct State: Sendable {
        var detector: AnomalyDetector
        var limiter: AgentRateLimiter
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

    private var fresh: State {
        State(detector: AnomalyDetector(thresholds: self.thresholds), limiter: self.rateLimit)
    }

    /// Restores the detector from `store` (a fresh one when none was journaled or it is unreadable).
    public func restore(from store: OutboxStore) {
        var restored = self.fresh
        do {
            if let text = try store.metaValue(Self.stateKey) {
                restored.detector = try JSONDecoder().decode(AnomalyDetector.self, from: Data(text.utf8))
                restored.detector.thresholds = self.thresholds
            }
            if let text = try store.metaValue(Self.rateLimitKey) {
                let limiter = try JSONDecoder().decode(AgentRateLimiter.self, from: Data(text.utf8))
                restored.limiter.windows = limiter.windows
            }
        } catch {
            self.logger.error(
                "the journaled anomaly detector state is unusable; starting afresh",
                metadata: ["outbox.error": "\(error)"])
        }
        self.state.withLock { $0 = restored }
    }

    /// Learns a baseline snapshot (reports nothing).
    public func seed(with snapshot: AgentSnapshot) {
        let now = self.clock() / 1000
        let fresh = self.fresh
        self.state.withLock { state in
            var copy = state ?? fresh
            copy.detector.seed(with: snapshot, nowSeconds: now)
            state = copy
        }
    }

    /// Feeds one cycle — its `changes` and the `rows` the detection encoder made for them — and calls
    /// `write` with the rows to journal in the cycle's transaction: the flapping summaries of windows this
    /// cycle closed, `rows` without the secondary rows of condensed transitions, then the anomaly rows;
    /// and the `meta` entries of the new state. The state advances only when `write` returns.
    ///
    /// - Returns: the findings journaled.
    @discardableResult
    public func journalCycle(
        _ changes: [AgentChange], rows: [NewOutboxMessage], snapshot: AgentSnapshot, detectedAtMilliseconds: Int64,
        write: (_ rows: [NewOutboxMessage], _ meta: [String: String]) throws -> Void
    ) throws -> [AnomalyDetector.Finding] {
        let now = self.clock() / 1000
        let fresh = self.fresh
        return try self.state.withLock { state in
            var copy = state ?? fresh
            let findings = copy.detector.observe(
                changes, snapshot: snapshot, managerNode: self.encoder.managerNode, nowSeconds: now)
            var journaled: [NewOutboxMessage] = []
            var meta = [Self.stateKey: try Self.encode(copy.detector)]
            var condensedIDs: Set<String> = []
            if copy.limiter.isEnabled {
                var summaries: [AgentRateLimiter.Summary] = []
                for change in changes {
                    let (condensed, closed) = copy.limiter.admit(change)
                    if let closed { summaries.append(closed) }
                    if condensed {
                        condensedIDs.insert(
                            EventID.make(
                                agentID: change.agentID, kind: change.kind.rawValue,
                                previous: change.previousStatus.rawValue, current: change.currentStatus.rawValue,
                                dateAdd: change.dateAdd, transitionTime: change.transitionTime))
                    }
                }
                journaled += self.encoder.messages(for: summaries, detectedAtMilliseconds: detectedAtMilliseconds)
                meta[Self.rateLimitKey] = try Self.encode(copy.limiter)
            }
            journaled +=
                condensedIDs.isEmpty
                ? rows : rows.filter { !($0.kind == .secondary && condensedIDs.contains($0.eventID)) }
            journaled += self.encoder.messages(for: findings, detectedAtMilliseconds: detectedAtMilliseconds)
            try write(journaled, meta)
            state = copy
            self.metrics?.transitionsCondensed.increment(by: condensedIDs.count)
            self.log(findings)
            return findings
        }
    }

    /// The check between cycles (fleet silence): journals what it finds with the new state.
    ///
    /// - Returns: the findings journaled (the caller wakes the delivery worker).
    @discardableResult
    public func tick(store: OutboxStore) throws -> [AnomalyDetector.Finding] {
        let nowMilliseconds = self.clock()
        return try self.state.withLock { state in
            guard var copy = state else { return [] }
            let findings = copy.detector.tick(nowSeconds: nowMilliseconds / 1000)
            let summaries = copy.limiter.closeExpired(nowSeconds: nowMilliseconds / 1000)
            guard
                !findings.isEmpty || !summaries.isEmpty || copy.detector != state?.detector
                    || copy.limiter != state?.limiter
            else { return [] }
            let rows =
                self.encoder.messages(for: summaries, detectedAtMilliseconds: nowMilliseconds)
                + self.encoder.messages(for: findings, detectedAtMilliseconds: nowMilliseconds)
            var meta = [Self.stateKey: try Self.encode(copy.detector)]
            if copy.limiter.isEnabled { meta[Self.rateLimitKey] = try Self.encode(copy.limiter) }
            try store.appendMessages(rows, meta: meta)
            state = copy
            self.log(findings)
            return findings
        }
    }

    private static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
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
