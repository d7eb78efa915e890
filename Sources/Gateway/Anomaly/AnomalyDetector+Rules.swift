import WazuhSource
import WireContract

extension AnomalyDetector {
    /// How many removed agents are remembered for the re-registration rule.
    static let retiredLimit = 20_000

    mutating func retire(_ change: AgentChange) {
        self.retired.ids.append(change.agentID)
        self.retired.names.append(change.agentName)
        if self.retired.ids.count > Self.retiredLimit {
            self.retired.ids.removeFirst(self.retired.ids.count - Self.retiredLimit)
        }
        if self.retired.names.count > Self.retiredLimit {
            self.retired.names.removeFirst(self.retired.names.count - Self.retiredLimit)
        }
        self.retiredDirty = true
    }

    func reregistration(_ change: AgentChange, node: String, snapshot: AgentSnapshot) -> Finding? {
        guard self.thresholds.reregistration else { return nil }
        let idSeen = self.retired.ids.contains(change.agentID)
        let nameBytes = Array(change.agentName.utf8)
        var nameSeen = self.retired.names.contains(change.agentName)
        if !nameSeen {
            // Another current agent under the same name (scanned only on registrations, which are rare).
            let ids = snapshot.agentIDs
            nameSeen = ids.indices.contains { index in
                ids[index] != change.agentID && snapshot.nameBytes(at: index).elementsEqual(nameBytes)
            }
        }
        guard idSeen || nameSeen else { return nil }
        let what = idSeen && nameSeen ? "id and name" : idSeen ? "id" : "name"
        return Finding(
            kind: .reregistration, severity: "warning", agentID: change.agentID, agentName: change.agentName,
            nodeName: node, observed: 1, threshold: 1, fleetSize: nil, firstSeen: change.transitionTime,
            lastSeen: change.transitionTime,
            explanation: "agent registered under an \(what) that existed before",
            basis: ["\(change.agentID)", "\(change.dateAdd)", change.agentName])
    }

    func flapping(_ change: AgentChange, node: String, track: inout AnomalyAgentTrack) -> Finding? {
        let window = self.thresholds.windowSeconds
        track.transitions.append(change.transitionTime)
        let cutoff = (track.transitions.max() ?? change.transitionTime) - window
        track.transitions.removeAll { $0 <= cutoff }
        let times = track.transitions
        let limit = self.thresholds.flappingTransitions
        guard times.count > limit else {
            track.flappingLatched = false
            return nil
        }
        guard !track.flappingLatched else { return nil }
        track.flappingLatched = true
        return Finding(
            kind: .flapping, severity: "warning", agentID: change.agentID, agentName: change.agentName,
            nodeName: node, observed: times.count, threshold: limit, fleetSize: nil, firstSeen: times.first,
            lastSeen: times.last,
            explanation: "\(times.count) status changes within \(window)s (more than \(limit))",
            basis: ["\(change.agentID)", "\(change.dateAdd)", "\(change.transitionTime)"])
    }

    /// Forgets the tracks that fell out of the window (amortised: each touch is popped once).
    mutating func pruneTracks() {
        guard let newest = self.fleet.newestTransition else { return }
        let window = self.thresholds.windowSeconds
        while self.expiryHead < self.expiry.count, self.expiry[self.expiryHead].time <= newest - window {
            let agentID = self.expiry[self.expiryHead].agentID
            self.expiryHead += 1
            guard let track = self.tracks[agentID] else { continue }
            if track.isExpired(newest: newest, window: window) {
                self.tracks[agentID] = nil
                self.dirtyAgents.insert(agentID)
            } else if track.lastSeen <= newest - window {
                // Kept for a pending or recent hand stop: looked at again a window later.
                self.expiry.append((newest, agentID))
            }
        }
        if self.expiryHead > 1024, self.expiryHead * 2 > self.expiry.count {
            self.expiry.removeFirst(self.expiryHead)
            self.expiryHead = 0
        }
    }

    /// Hand stops whose grace period ended with the agent still disconnected.
    mutating func matureStops(nowSeconds: Int64) -> [Finding] {
        guard !self.pendingStops.isEmpty else { return [] }
        let grace = self.thresholds.stopGraceSeconds
        let window = self.thresholds.windowSeconds
        var findings: [Finding] = []
        for agentID in self.pendingStops.sorted() {
            guard var track = self.tracks[agentID], let stoppedAt = track.pendingStopAt else {
                self.pendingStops.remove(agentID)
                continue
            }
            guard stoppedAt + grace <= nowSeconds else { continue }
            track.pendingStopAt = nil
            self.tracks[agentID] = track
            self.dirtyAgents.insert(agentID)
            self.pendingStops.remove(agentID)
            // Hand stops of the whole fleet within a window of this one: above the bound, a planned shutdown.
            let nearby = self.tracks.values.reduce(0) { count, other in
                guard let other = other.lastStopAt, abs(other - stoppedAt) < window else { return count }
                return count + 1
            }
            guard nearby <= self.thresholds.stopMaxPerWindow else { continue }
            let windows = self.thresholds.maintenanceWindows.map(\.description).joined(separator: ", ")
            let outside = windows.isEmpty ? "no maintenance window configured" : "outside \(windows) UTC"
            findings.append(
                Finding(
                    kind: .agentStopped, severity: "warning", agentID: agentID, agentName: track.name,
                    nodeName: track.node, observed: 1, threshold: 1, fleetSize: nil, firstSeen: stoppedAt,
                    lastSeen: stoppedAt,
                    explanation: "agent stopped by hand (\(outside)) and still disconnected after \(grace)s",
                    basis: ["\(agentID)", "\(track.dateAdd)", "\(stoppedAt)"]))
        }
        return findings
    }

    mutating func massDisconnections(
        touched: Set<String>, nodeSizes: AgentSnapshot.NodeSizes, managerNode: String
    ) -> [Finding] {
        guard !self.disconnections.isEmpty, let newest = self.fleet.newestTransition else { return [] }
        let window = self.thresholds.windowSeconds
        var sizes: [String: Int] = [:]
        if !touched.isEmpty {
            for (name, count) in nodeSizes.agentsPerNode { sizes[name ?? managerNode, default: 0] += count }
        }
        let thresholds = self.thresholds
        let (crossed, changed) = DisconnectionWindow.crossings(
            &self.disconnections, latched: &self.fleet.massLatched, touched: touched, through: newest - window
        ) { thresholds.massDisconnectThreshold(fleetSize: sizes[$0] ?? 0) }
        if changed { self.fleetDirty = true }
        return crossed.map { crossing in
            let (node, distinct, threshold) = (crossing.scope, crossing.distinct, crossing.threshold)
            let size = sizes[node] ?? 0
            return Finding(
                kind: .massDisconnection, severity: "critical", agentID: nil, agentName: nil, nodeName: node,
                observed: distinct, threshold: threshold, fleetSize: size, firstSeen: crossing.first,
                lastSeen: crossing.last,
                explanation: "\(distinct) of \(size) agents on node \(node) disconnected within \(window)s "
                    + "(threshold \(threshold))",
                basis: [node, "\(crossing.first)", "\(crossing.last)"])
        }
    }

    mutating func noteKeepalives(active: Int, latest: Int64?) {
        if self.fleet.activeAgents != active {
            self.fleet.activeAgents = active
            self.fleetDirty = true
        }
        if let latest, latest > (self.fleet.latestKeepalive ?? Int64.min) {
            self.fleet.latestKeepalive = latest
            self.fleet.keepaliveAdvancedAt = nil
            self.fleet.silenceLatched = false
            self.fleetDirty = true
        }
    }

    mutating func silence(nowSeconds: Int64) -> Finding? {
        let after = self.thresholds.silenceSeconds
        guard after > 0, self.fleet.activeAgents > 0 else { return nil }
        // The clock time of the last advance is taken at the first look after it.
        let since = self.fleet.keepaliveAdvancedAt ?? nowSeconds
        if self.fleet.keepaliveAdvancedAt == nil {
            self.fleet.keepaliveAdvancedAt = since
            self.fleetDirty = true
        }
        guard nowSeconds - since >= after, !self.fleet.silenceLatched else { return nil }
        self.fleet.silenceLatched = true
        self.fleetDirty = true
        return Finding(
            kind: .fleetSilent, severity: "critical", agentID: nil, agentName: nil, nodeName: nil,
            observed: Int(nowSeconds - since), threshold: Int(after), fleetSize: self.fleet.activeAgents,
            firstSeen: self.fleet.latestKeepalive, lastSeen: nil,
            explanation: "no agent keepalive advanced for \(nowSeconds - since)s while \(self.fleet.activeAgents) "
                + "agents are active",
            basis: ["\(self.fleet.latestKeepalive ?? 0)"])
    }
}
