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
        var findings: [Finding] = []
        for group in self.groupDisconnections.keys.sorted() {
            guard var stamps = self.groupDisconnections[group] else { continue }
            stamps.prune(through: newest - window)
            guard let first = stamps.first, let last = stamps.last else {
                self.groupDisconnections[group] = nil
                if self.fleet.groupLatched.remove(group) != nil { self.fleetDirty = true }
                continue
            }
            self.groupDisconnections[group] = stamps
            guard touched.contains(group) else { continue }
            let distinct = stamps.distinctAgents
            let size = sizes[group] ?? 0
            let threshold = self.thresholds.groupDisconnectThreshold(groupSize: size)
            // A group holding every agent is the fleet itself: the per-node rule reports that.
            guard distinct >= threshold, size < snapshot.count else {
                if self.fleet.groupLatched.remove(group) != nil { self.fleetDirty = true }
                continue
            }
            guard self.fleet.groupLatched.insert(group).inserted else { continue }
            self.fleetDirty = true
            var finding = Finding(
                kind: .massDisconnection, severity: "critical", agentID: nil, agentName: nil, nodeName: nil,
                observed: distinct, threshold: threshold, fleetSize: size, firstSeen: first, lastSeen: last,
                explanation: "\(distinct) of \(size) agents in group \(group) disconnected within \(window)s "
                    + "(threshold \(threshold))",
                basis: ["group", group, "\(first)", "\(last)"])
            finding.group = group
            findings.append(finding)
        }
        return findings
    }
}
