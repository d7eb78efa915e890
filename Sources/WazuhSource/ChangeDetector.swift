/// Turns two successive snapshots into the transitions between them.
///
/// Rules:
/// - an id only in `current` is a registration (`Unknown` → current status);
/// - an id only in `previous` is a removal (previous status → `Unknown`);
/// - the same id with a different `date_add` is a re-registration: a removal of the old agent
///   followed by a registration of the new one;
/// - the same agent with a different `connection_status` is a status change;
/// - an agent disconnected in both snapshots whose `disconnection_time` moved (both > 0) reconnected
///   and disconnected again between the reads: a `Disconnected` → `Disconnected` status change, so
///   the new disconnection is not lost;
/// - anything else (keepalives, `status_code`-only changes, renames, IP changes) produces nothing.
///
/// `transitionTime` comes only from the database's columns, so two readers that see the same
/// transition in the same commit derive the same time:
/// - registration → `date_add`;
/// - to `Disconnected` → `disconnection_time` when present and > 0, else `last_keepalive`, else `date_add`;
/// - to `Active` / `Pending` → `last_keepalive`, else `date_add` (the database records no better
///   time; a reader that first sees the transition a commit later may see a later keepalive);
/// - to `NeverConnected` / `Unknown` → `date_add`;
/// - removal → the removed record's `disconnection_time` when it was disconnected (> 0), else
///   its last known `last_keepalive`, else `date_add`.
///
/// Changes are ordered by agent id; a re-registration's removal precedes its registration.
public enum ChangeDetector {
    /// The changes from `previous` to `current`. With no previous snapshot (first start) the current
    /// state is the baseline and there are no changes.
    public static func changes(from previous: AgentSnapshot?, to current: AgentSnapshot) -> [AgentChange] {
        guard let previous else { return [] }
        var changes: [AgentChange] = []
        let old = previous.entries
        let new = current.entries
        var i = 0
        var j = 0
        while i < old.count || j < new.count {
            if j == new.count || (i < old.count && old[i].id < new[j].id) {
                changes.append(removal(previous, i))
                i += 1
            } else if i == old.count || new[j].id < old[i].id {
                changes.append(registration(current, j))
                j += 1
            } else {
                let before = old[i]
                let after = new[j]
                if before.dateAdd != after.dateAdd {
                    changes.append(removal(previous, i))
                    changes.append(registration(current, j))
                } else if before.status != after.status || redisconnected(before, after) {
                    changes.append(statusChange(current, j, from: AgentSnapshot.status(before.status)))
                }
                i += 1
                j += 1
            }
        }
        return changes
    }

    /// The changes from `previous` to the given records (in any order).
    public static func changes(from previous: AgentSnapshot?, to records: [AgentRecord]) -> [AgentChange] {
        changes(from: previous, to: AgentSnapshot(records: records))
    }

    /// The time the database gives for `record` having entered its current status (see the type's rules).
    public static func transitionTime(enteringStatusOf record: AgentRecord) -> Int64 {
        switch record.status {
        case .disconnected:
            if let time = record.disconnectionTime, time > 0 { return time }
            return record.lastKeepalive ?? record.dateAdd
        case .active, .pending:
            return record.lastKeepalive ?? record.dateAdd
        case .neverConnected, .unknown:
            return record.dateAdd
        }
    }

    private static func redisconnected(_ before: AgentSnapshot.Entry, _ after: AgentSnapshot.Entry) -> Bool {
        let disconnected = AgentSnapshot.rawStatus(.disconnected)
        let both = AgentSnapshot.Entry.hasDisconnectionTime
        return before.status == disconnected && after.status == disconnected
            && before.flags & both != 0 && after.flags & both != 0
            && before.disconnectionTime > 0 && after.disconnectionTime > 0
            && before.disconnectionTime != after.disconnectionTime
    }

    private static func statusChange(_ snapshot: AgentSnapshot, _ index: Int, from: ConnectionStatus) -> AgentChange {
        let record = snapshot.record(at: index)
        return AgentChange(
            kind: .statusChange, agentID: record.id, agentName: record.name, ipAddress: record.ip,
            previousStatus: from, currentStatus: record.status, reason: StatusReason(statusCode: record.statusCode),
            statusCode: record.statusCode, lastKeepalive: record.lastKeepalive, nodeName: record.nodeName,
            dateAdd: record.dateAdd, transitionTime: transitionTime(enteringStatusOf: record))
    }

    private static func registration(_ snapshot: AgentSnapshot, _ index: Int) -> AgentChange {
        let record = snapshot.record(at: index)
        return AgentChange(
            kind: .registered, agentID: record.id, agentName: record.name, ipAddress: record.ip,
            previousStatus: .unknown, currentStatus: record.status, reason: StatusReason(statusCode: record.statusCode),
            statusCode: record.statusCode, lastKeepalive: record.lastKeepalive, nodeName: record.nodeName,
            dateAdd: record.dateAdd, transitionTime: record.dateAdd)
    }

    private static func removal(_ snapshot: AgentSnapshot, _ index: Int) -> AgentChange {
        let record = snapshot.record(at: index)
        let time: Int64
        if record.status == .disconnected, let disconnected = record.disconnectionTime, disconnected > 0 {
            time = disconnected
        } else {
            time = record.lastKeepalive ?? record.dateAdd
        }
        return AgentChange(
            kind: .removed, agentID: record.id, agentName: record.name, ipAddress: record.ip,
            previousStatus: record.status, currentStatus: .unknown, reason: nil, statusCode: record.statusCode,
            lastKeepalive: record.lastKeepalive, nodeName: record.nodeName, dateAdd: record.dateAdd,
            transitionTime: time)
    }
}
