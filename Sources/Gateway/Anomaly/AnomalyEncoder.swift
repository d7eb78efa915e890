import Outbox
import WireContract

/// Turns ``AnomalyDetector/Finding``s into signed outbox rows: one on `{p}.security.anomaly` and, for a
/// finding about one agent, the same payload again on `{p}.agent.{id}.anomaly` (message id suffixed
/// `:anomaly`). The id is the finding's deterministic id, so journaling it twice stores it once.
public struct AnomalyEncoder: Sendable {
    public var subjects: Subjects
    public var signingKey: SigningKey
    public var managerNode: String
    public var windowSeconds: Int64
    /// With `managers:`, the manager whose ids this encoder scopes (``ManagerScope``).
    public var scope: ManagerScope?

    public init(
        subjects: Subjects, signingKey: SigningKey, managerNode: String, windowSeconds: Int64,
        scope: ManagerScope? = nil
    ) {
        self.scope = scope
        self.subjects = subjects
        self.signingKey = signingKey
        self.managerNode = managerNode
        self.windowSeconds = windowSeconds
    }

    /// The signed event for `finding`, detected at `detectedAtMilliseconds`.
    public func event(for finding: AnomalyDetector.Finding, detectedAtMilliseconds: Int64) -> AnomalyEvent {
        AnomalyEvent(
            eventID: ManagerScope.scoped(finding.eventID, by: self.scope), kind: finding.kind,
            severity: finding.severity,
            agentID: finding.agentID.map(Subjects.agentToken), agentName: finding.agentName,
            managerNode: self.managerNode, nodeName: finding.nodeName, observed: Int64(finding.observed),
            threshold: Int64(finding.threshold), fleetSize: finding.fleetSize.map { Int64($0) },
            windowSeconds: self.windowSeconds,
            firstSeen: finding.firstSeen.map { RFC3339.format(epochSeconds: $0) },
            lastSeen: finding.lastSeen.map { RFC3339.format(epochSeconds: $0) },
            explanation: finding.explanation,
            timestamp: RFC3339.format(epochMilliseconds: detectedAtMilliseconds), group: finding.group
        ).signed(with: self.signingKey)
    }

    /// The outbox rows for flapping `summaries`: one each on `{p}.agent.{id}.flapping`.
    public func messages(for summaries: [AgentRateLimiter.Summary], detectedAtMilliseconds: Int64)
        -> [NewOutboxMessage]
    {
        summaries.map { summary in
            let event = FlappingSummary(
                eventID: ManagerScope.scoped(
                    FlappingSummary.makeID(
                        agentID: summary.agentID, dateAdd: summary.dateAdd, windowStart: summary.windowStart),
                    by: self.scope),
                agentID: Subjects.agentToken(summary.agentID), agentName: summary.agentName,
                managerNode: self.managerNode, windowStart: RFC3339.format(epochSeconds: summary.windowStart),
                windowEnd: RFC3339.format(epochSeconds: summary.windowEnd), transitions: Int64(summary.transitions),
                condensed: Int64(summary.condensed), firstStatus: summary.firstStatus.rawValue,
                lastStatus: summary.lastStatus.rawValue,
                timestamp: RFC3339.format(epochMilliseconds: detectedAtMilliseconds)
            ).signed(with: self.signingKey)
            return NewOutboxMessage(
                messageID: event.eventID, eventID: event.eventID, kind: .secondary,
                subject: self.subjects.flapping(agentID: summary.agentID), agentID: event.agentID,
                payload: event.canonicalJSON())
        }
    }

    /// The outbox rows for `findings`, in order.
    public func messages(for findings: [AnomalyDetector.Finding], detectedAtMilliseconds: Int64) -> [NewOutboxMessage] {
        var rows: [NewOutboxMessage] = []
        for finding in findings {
            let event = self.event(for: finding, detectedAtMilliseconds: detectedAtMilliseconds)
            let payload = event.canonicalJSON()
            rows.append(
                NewOutboxMessage(
                    messageID: event.eventID, eventID: event.eventID, kind: .event, subject: self.subjects.anomaly,
                    agentID: event.agentID, payload: payload))
            if let agentID = finding.agentID {
                rows.append(
                    NewOutboxMessage(
                        messageID: event.eventID + ":anomaly", eventID: event.eventID, kind: .secondary,
                        subject: self.subjects.anomaly(agentID: agentID), agentID: event.agentID, payload: payload))
            }
        }
        return rows
    }
}
