import Outbox
import WazuhSource
import WireContract

/// Turns one detection cycle's changes into the signed outbox rows to journal: per change one row on
/// `.status` plus its secondary rows, then the cycle's batch (split into parts under `maxPayload`).
///
/// Deterministic: event ids come from the database's data (WireContract's `EventID`), the batch id
/// from the event ids and the latest transition time, so re-detecting the same cycle yields the same
/// rows (the outbox ignores them as duplicates).
public struct DetectionEncoder: Sendable {
    public var mapper: AgentEventMapper
    public var subjects: Subjects
    public var signingKey: SigningKey
    /// The largest payload a batch part may have (the server's `max_payload` less header room).
    public var maxBatchPayload: Int
    /// With `managers:`, the manager whose ids this encoder scopes (``ManagerScope``); nil keeps the
    /// single-manager ids.
    public var scope: ManagerScope?

    public init(
        mapper: AgentEventMapper, subjects: Subjects, signingKey: SigningKey, maxBatchPayload: Int = 900 * 1024,
        scope: ManagerScope? = nil
    ) {
        self.scope = scope
        self.mapper = mapper
        self.subjects = subjects
        self.signingKey = signingKey
        self.maxBatchPayload = maxBatchPayload
    }

    /// The signed event for one change.
    public func signedEvent(for change: AgentChange, detectedAtMilliseconds: Int64) -> AgentStatusEvent {
        let eventID = ManagerScope.scoped(
            EventID.make(
                agentID: change.agentID, kind: change.kind.rawValue, previous: change.previousStatus.rawValue,
                current: change.currentStatus.rawValue, dateAdd: change.dateAdd, transitionTime: change.transitionTime),
            by: scope)
        return mapper.event(for: change, eventID: eventID, detectedAtMilliseconds: detectedAtMilliseconds)
            .signed(with: signingKey)
    }

    /// Every outbox row for one cycle, in publish order.
    public func messages(
        for changes: [AgentChange], counts: WazuhSource.FleetCounts, detectedAtMilliseconds: Int64
    ) -> [NewOutboxMessage] {
        guard !changes.isEmpty else { return [] }
        var rows: [NewOutboxMessage] = []
        var events: [AgentStatusEvent] = []
        var payloads: [[UInt8]] = []
        var eventBytes = 0
        rows.reserveCapacity(changes.count * 2 + 1)
        events.reserveCapacity(changes.count)
        payloads.reserveCapacity(changes.count)
        for change in changes {
            let event = signedEvent(for: change, detectedAtMilliseconds: detectedAtMilliseconds)
            events.append(event)
            let payload = event.canonicalJSON()
            eventBytes += payload.count
            payloads.append(payload)
            rows.append(
                NewOutboxMessage(
                    messageID: event.eventID, eventID: event.eventID, kind: .event,
                    subject: subjects.status(agentID: change.agentID), agentID: event.agentID, payload: payload))
            for secondary in AgentEventMapper.secondarySubjects(for: change) {
                rows.append(
                    NewOutboxMessage(
                        messageID: event.eventID + ":" + secondary.rawValue, eventID: event.eventID, kind: .secondary,
                        subject: subject(secondary, agentID: change.agentID), agentID: event.agentID, payload: payload))
            }
        }
        rows += batchMessages(
            events: events, counts: counts, latestTransition: changes.map(\.transitionTime).max() ?? 0,
            detectedAtMilliseconds: detectedAtMilliseconds, eventBytes: eventBytes, eventPayloads: payloads)
        return rows
    }

    /// The batch rows for one cycle: one message, or parts each under ``maxBatchPayload``.
    ///
    /// - Parameter eventBytes: the events' canonical JSON sizes summed, when known: the first split is
    ///   sized from it, so a restart storm's batch is never built (as a JSON tree, twice: to sign and to
    ///   serialize) whole only to find it too large — that transient was the gateway's peak memory.
    /// - Parameter eventPayloads: each event's canonical JSON (its row's payload), when known: each part
    ///   is then written around those bytes (``BatchStatusUpdate/signedCanonicalJSON(with:eventPayloads:)``)
    ///   instead of being built as a JSON tree of all its events, twice.
    public func batchMessages(
        events: [AgentStatusEvent], counts: WazuhSource.FleetCounts, latestTransition: Int64,
        detectedAtMilliseconds: Int64, eventBytes: Int? = nil, eventPayloads: [[UInt8]]? = nil
    ) -> [NewOutboxMessage] {
        let eventPayloads = eventPayloads?.count == events.count ? eventPayloads : nil
        let batchID = ManagerScope.scoped(
            BatchStatusUpdate.makeBatchID(time: latestTransition, eventIDs: events.map(\.eventID)), by: scope)
        let summary = BatchSummary(
            fleet: WireContract.FleetCounts(
                totalAgents: counts.total, activeAgents: counts.active, disconnectedAgents: counts.disconnected,
                pendingAgents: counts.pending, neverConnectedAgents: counts.neverConnected),
            changesDetected: events.count)
        let timestamp = WireTimestamp.string(epochMilliseconds: detectedAtMilliseconds)
        var maximumEvents = max(1, events.count)
        if let eventBytes, eventBytes + events.count + 1024 > maxBatchPayload {
            // Each part also carries the batch's own members (~500 bytes) and a comma per event.
            let perEvent = Double(eventBytes + events.count) / Double(max(1, events.count))
            maximumEvents = max(1, min(maximumEvents, Int(Double(maxBatchPayload - 1024) / perEvent * 0.95)))
        }
        while true {
            let parts = BatchStatusUpdate.split(
                batchID: batchID, managerNode: mapper.managerNode, timestamp: timestamp, events: events,
                summary: summary, maximumEvents: maximumEvents)
            var offset = 0
            let encoded = parts.map { part in
                defer { offset += part.events.count }
                guard let eventPayloads else { return (part.messageID, part.signed(with: signingKey).canonicalJSON()) }
                let payloads = eventPayloads[offset..<(offset + part.events.count)]
                return (part.messageID, part.signedCanonicalJSON(with: signingKey, eventPayloads: payloads))
            }
            if maximumEvents == 1 || encoded.allSatisfy({ $0.1.count <= maxBatchPayload }) {
                return encoded.map { messageID, payload in
                    NewOutboxMessage(
                        messageID: messageID, eventID: batchID, kind: .batch, subject: subjects.agentEvents,
                        agentID: nil, payload: payload)
                }
            }
            let largest = encoded.map(\.1.count).max() ?? maxBatchPayload
            // Shrink proportionally (with 10% headroom), and at least halve, until every part fits.
            let scaled = Int(Double(maximumEvents) * Double(maxBatchPayload) / Double(largest) * 0.9)
            maximumEvents = max(1, min(maximumEvents / 2, scaled))
        }
    }

    private func subject(_ secondary: AgentEventMapper.SecondarySubject, agentID: Int) -> String {
        switch secondary {
        case .connected: subjects.connected(agentID: agentID)
        case .disconnected: subjects.disconnected(agentID: agentID)
        case .registered: subjects.registered(agentID: agentID)
        case .removed: subjects.removed(agentID: agentID)
        }
    }
}
