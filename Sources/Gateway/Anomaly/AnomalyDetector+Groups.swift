import WazuhSource
import WireContract

/// Mass disconnection per agent group: a site, a department or a server role dropping off at once is
/// often a small share of every cluster node, so the per-node rule misses it.
///
/// An agent's groups come from global.db's `group` column (comma-separated, as wazuh-db keeps it in step
/// with the `belongs` table), read into the snapshot; the groups at the moment of a disconnection are
/// kept in the agent's track, so the windows are rebuilt on restore like the per-node ones. Each group
/// has its own sliding window of distinct agents entering Disconnected (manager restarts excluded), its
/// own threshold (max(`group_disconnect_min_agents`, `group_disconnect_percent` of the group's current
/// size)) and its own latch in the fleet state: one finding per group per episode, whose id derives from
/// the group name and the window's first and last transition times.
extension AnomalyDetector {
    /// Counts `agentID`'s disconnection at `time` in the window of each group in `groups`.
    mutating func countGroupDisconnection(agentID: Int, groups: String, time: Int64, touched: inout Set<String>) {
        guard self.thresholds.groupDisconnectPercent > 0, !groups.isEmpty else { return }
        for name in AgentRecord.groupNames(groups) {
            self.groupDisconnections[name, default: DisconnectionWindow()].insert(agentID: agentID, time: time)
            touched.insert(name)
        }
    }

    /// Prunes every group's window and reports the `touched` groups that crossed their threshold.
    mutating func groupMassDisconnections(touched: Set<String>, snapshot: AgentSnapshot) -> [Finding] {
        guard !self.groupDisconnections.isEmpty, let newest = self.fleet.newestTransition else { return [] }
        let window = self.thresholds.windowSeconds
        let sizes = touched.isEmpty ? [:] : snapshot.agentsPerGroup
        let thresholds = self.thresholds
        let fleetSize = snapshot.count
        // A group holding every agent is the fleet itself: the per-node rule reports that.
        let (crossed, changed) = DisconnectionWindow.crossings(
            &self.groupDisconnections, latched: &self.fleet.groupLatched, touched: touched, through: newest - window
        ) { group in
            let size = sizes[group] ?? 0
            return size < fleetSize ? thresholds.groupDisconnectThreshold(groupSize: size) : nil
        }
        if changed { self.fleetDirty = true }
        return crossed.map { crossing in
            let (group, distinct, threshold) = (crossing.scope, crossing.distinct, crossing.threshold)
            let size = sizes[group] ?? 0
            var finding = Finding(
                kind: .massDisconnection, severity: "critical", agentID: nil, agentName: nil, nodeName: nil,
                observed: distinct, threshold: threshold, fleetSize: size, firstSeen: crossing.first,
                lastSeen: crossing.last,
                explanation: "\(distinct) of \(size) agents in group \(group) disconnected within \(window)s "
                    + "(threshold \(threshold))",
                basis: ["group", group, "\(crossing.first)", "\(crossing.last)"])
            finding.group = group
            return finding
        }
    }
}
