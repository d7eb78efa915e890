import WazuhSource
import WireContract

/// Maps a detected ``AgentChange`` to the wire event and decides which subjects it is published on.
///
/// Pure: the event id is handed in (derived by WireContract's `EventID` from the database's data),
/// and the detection time is a parameter, so the same inputs always give the same event.
public struct AgentEventMapper: Sendable, Hashable {
    /// The secondary subjects an event is additionally published on.
    public enum SecondarySubject: String, Sendable, Hashable, CaseIterable {
        case connected
        case disconnected
        case registered
        case removed
    }

    /// `wazuh.manager_node`: the manager this gateway watches.
    public var managerNode: String

    public init(managerNode: String) {
        self.managerNode = managerNode
    }

    /// The zero-padded agent id used on the wire and in subjects (`1` → `001`, `1234` → `1234`).
    public static func wireAgentID(_ id: Int) -> String {
        let digits = String(id)
        return digits.count >= 3 ? digits : String(repeating: "0", count: 3 - digits.count) + digits
    }

    /// The unsigned event for `change`, detected at `detectedAtMilliseconds` (Unix epoch ms).
    public func event(for change: AgentChange, eventID: String, detectedAtMilliseconds: Int64) -> AgentStatusEvent {
        AgentStatusEvent(
            eventType: change.kind.rawValue,
            eventID: eventID,
            agentID: Self.wireAgentID(change.agentID),
            agentName: change.agentName,
            previousStatus: change.previousStatus.rawValue,
            currentStatus: change.currentStatus.rawValue,
            reason: change.reason?.rawValue,
            ipAddress: change.ipAddress,
            lastKeepalive: change.lastKeepalive.map { WireTimestamp.string(unixSeconds: $0) },
            managerNode: managerNode,
            nodeName: change.nodeName,
            timestamp: WireTimestamp.string(epochMilliseconds: detectedAtMilliseconds)
        )
    }

    /// The secondary subjects for `change`, in a fixed order: `.connected` when the agent enters
    /// Active, `.disconnected` when it enters Disconnected, `.registered` / `.removed` for those kinds.
    public static func secondarySubjects(for change: AgentChange) -> [SecondarySubject] {
        var subjects: [SecondarySubject] = []
        if change.kind == .registered { subjects.append(.registered) }
        if change.kind != .removed && change.currentStatus != change.previousStatus {
            if change.currentStatus == .active { subjects.append(.connected) }
            if change.currentStatus == .disconnected { subjects.append(.disconnected) }
        }
        if change.kind == .removed { subjects.append(.removed) }
        return subjects
    }
}
