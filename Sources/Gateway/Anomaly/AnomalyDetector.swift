import WazuhSource
import WireContract

/// Finds unusual status patterns in the detection cycles' changes: a pure value type with explainable
/// counters and sliding windows, fed one cycle at a time, persisted (``Codable``) with the snapshot.
///
/// Windows run on the database's own transition times (so a restart, or a second gateway, counts the
/// same); only fleet silence uses the injected clock (`nowSeconds`), since silence is the absence of
/// transitions. Each rule latches once raised and re-arms only when its counter falls back below the
/// threshold, so an episode is reported once; finding ids derive from database data only
/// (``AnomalyEvent/makeID(kind:basis:)``), so re-detecting a cycle after a restart repeats ids that
/// the outbox and JetStream drop.
///
/// Rules (thresholds in ``AnomalyThresholds``):
/// - **mass disconnection**: per cluster node, distinct agents entering Disconnected within `window`
///   ≥ max(`mass_disconnect_min_agents`, `mass_disconnect_percent` of the node's agents); a manager
///   restart's disconnections (reason `manager_restart`) are not counted.
/// - **agent stopped**: a transition to Disconnected with reason `agent_stopped` outside every
///   maintenance window (no windows configured: nothing to compare with, not reported).
/// - **flapping**: more than `flapping_transitions` status changes of one agent within `window`.
/// - **re-registration**: a registration whose agent id or name was seen before (also removed ones).
/// - **fleet silent**: no agent's `last_keepalive` advanced for `silence_after` while agents are
///   Active (the gateway reads global.db, so "the manager is up" means the source reads succeed).
public struct AnomalyDetector: Sendable, Hashable, Codable {
    /// One finding, ready to become an ``AnomalyEvent``.
    public struct Finding: Sendable, Hashable {
        public var kind: AnomalyEvent.Kind
        public var severity: String
        public var agentID: Int?
        public var agentName: String?
        public var nodeName: String?
        public var observed: Int
        public var threshold: Int
        public var fleetSize: Int?
        public var firstSeen: Int64?
        public var lastSeen: Int64?
        public var explanation: String
        /// Database-derived parts of the deterministic id.
        public var basis: [String]

        public var eventID: String { AnomalyEvent.makeID(kind: self.kind, basis: self.basis) }
    }

    struct Stamp: Sendable, Hashable, Codable {
        var agentID: Int
        var time: Int64
    }

    public var thresholds: AnomalyThresholds
    /// Per cluster node: agents that entered Disconnected, oldest first.
    var disconnections: [String: [Stamp]] = [:]
    var massLatched: Set<String> = []
    /// Per agent: times of its status changes, oldest first.
    var transitions: [Int: [Int64]] = [:]
    var flappingLatched: Set<Int> = []
    /// Ids and names of removed agents, oldest first (at most ``retiredLimit``); current agents are
    /// in the snapshot, so only these need keeping.
    var retiredIDs: [Int] = []
    var retiredNames: [String] = []
    var seeded = false
    /// The latest keepalive seen and when (clock seconds) it last advanced.
    var latestKeepalive: Int64?
    var keepaliveAdvancedAt: Int64?
    var activeAgents = 0
    var silenceLatched = false

    public init(thresholds: AnomalyThresholds) {
        self.thresholds = thresholds
    }

    /// Learns the fleet of `snapshot` without reporting anything (a baseline, or state from an older
    /// gateway that kept none).
    public mutating func seed(with snapshot: AgentSnapshot, nowSeconds: Int64) {
        self.seeded = true
        self.latestKeepalive = snapshot.latestKeepalive
        self.keepaliveAdvancedAt = nowSeconds
        self.activeAgents = snapshot.counts.active
    }

    /// Whether ``seed(with:nowSeconds:)`` ran (state restored from the outbox counts).
    public var isSeeded: Bool { self.seeded }

    /// Feeds one journaled cycle: its changes and the snapshot after them. Returns the new findings.
    public mutating func observe(
        _ changes: [AgentChange], snapshot: AgentSnapshot, managerNode: String, nowSeconds: Int64
    ) -> [Finding] {
        guard self.thresholds.enabled else { return [] }
        if !self.seeded { self.seed(with: snapshot, nowSeconds: nowSeconds) }
        var findings: [Finding] = []
        var touchedNodes: Set<String> = []
        for change in changes {
            let node = change.nodeName ?? managerNode
            if change.kind == .registered,
                let finding = self.reregistration(change, node: node, snapshot: snapshot)
            {
                findings.append(finding)
            }
            if change.kind == .removed { self.retire(change) }
            if change.kind == .statusChange, let finding = self.flapping(change, node: node) {
                findings.append(finding)
            }
            // A manager restart (status code 5) disconnects everyone by the manager's own doing: not counted.
            if change.currentStatus == .disconnected, change.previousStatus != .disconnected,
                change.reason != .managerRestart
            {
                self.disconnections[node, default: []].append(
                    Stamp(agentID: change.agentID, time: change.transitionTime))
                touchedNodes.insert(node)
                if change.reason == .agentStopped, let finding = self.stopped(change, node: node) {
                    findings.append(finding)
                }
            }
        }
        findings += self.massDisconnections(touched: touchedNodes, snapshot: snapshot, managerNode: managerNode)
        self.pruneTransitions()
        self.noteKeepalives(snapshot)
        if let silent = self.silence(nowSeconds: nowSeconds) { findings.append(silent) }
        return findings
    }

    /// Checks fleet silence between cycles (no update arrives while nothing changes).
    public mutating func tick(nowSeconds: Int64) -> [Finding] {
        guard self.thresholds.enabled, self.seeded else { return [] }
        return self.silence(nowSeconds: nowSeconds).map { [$0] } ?? []
    }

    // MARK: Rules

    /// How many removed agents are remembered for the re-registration rule.
    static let retiredLimit = 20_000

    private mutating func retire(_ change: AgentChange) {
        self.retiredIDs.append(change.agentID)
        self.retiredNames.append(change.agentName)
        if self.retiredIDs.count > Self.retiredLimit {
            self.retiredIDs.removeFirst(self.retiredIDs.count - Self.retiredLimit)
        }
        if self.retiredNames.count > Self.retiredLimit {
            self.retiredNames.removeFirst(self.retiredNames.count - Self.retiredLimit)
        }
    }

    private func reregistration(_ change: AgentChange, node: String, snapshot: AgentSnapshot) -> Finding? {
        guard self.thresholds.reregistration else { return nil }
        let idSeen = self.retiredIDs.contains(change.agentID)
        let nameBytes = Array(change.agentName.utf8)
        var nameSeen = self.retiredNames.contains(change.agentName)
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

    /// Forgets agents whose last change left the window.
    private mutating func pruneTransitions() {
        guard let newest = self.transitions.values.compactMap(\.last).max() else { return }
        let cutoff = newest - self.thresholds.windowSeconds
        for (agent, times) in self.transitions where (times.last ?? cutoff) <= cutoff {
            self.transitions[agent] = nil
            self.flappingLatched.remove(agent)
        }
    }

    private mutating func flapping(_ change: AgentChange, node: String) -> Finding? {
        let window = self.thresholds.windowSeconds
        var times = self.transitions[change.agentID] ?? []
        times.append(change.transitionTime)
        let cutoff = (times.max() ?? change.transitionTime) - window
        times.removeAll { $0 <= cutoff }
        self.transitions[change.agentID] = times
        let limit = self.thresholds.flappingTransitions
        guard times.count > limit else {
            self.flappingLatched.remove(change.agentID)
            return nil
        }
        guard !self.flappingLatched.contains(change.agentID) else { return nil }
        self.flappingLatched.insert(change.agentID)
        return Finding(
            kind: .flapping, severity: "warning", agentID: change.agentID, agentName: change.agentName,
            nodeName: node, observed: times.count, threshold: limit, fleetSize: nil, firstSeen: times.first,
            lastSeen: times.last,
            explanation: "\(times.count) status changes within \(window)s (more than \(limit))",
            basis: ["\(change.agentID)", "\(change.dateAdd)", "\(change.transitionTime)"])
    }

    private func stopped(_ change: AgentChange, node: String) -> Finding? {
        guard !self.thresholds.maintenanceWindows.isEmpty,
            !self.thresholds.inMaintenance(unixSeconds: change.transitionTime)
        else { return nil }
        let windows = self.thresholds.maintenanceWindows.map(\.description).joined(separator: ", ")
        return Finding(
            kind: .agentStopped, severity: "warning", agentID: change.agentID, agentName: change.agentName,
            nodeName: node, observed: 1, threshold: 1, fleetSize: nil, firstSeen: change.transitionTime,
            lastSeen: change.transitionTime,
            explanation: "agent stopped by hand outside the maintenance windows (\(windows) UTC)",
            basis: ["\(change.agentID)", "\(change.dateAdd)", "\(change.transitionTime)"])
    }

    private mutating func massDisconnections(
        touched: Set<String>, snapshot: AgentSnapshot, managerNode: String
    ) -> [Finding] {
        guard !self.disconnections.isEmpty else { return [] }
        let window = self.thresholds.windowSeconds
        let newest = self.disconnections.values.compactMap { $0.last?.time }.max() ?? 0
        var sizes: [String: Int] = [:]
        if !touched.isEmpty {
            for (name, count) in snapshot.agentsPerNode { sizes[name ?? managerNode, default: 0] += count }
        }
        var findings: [Finding] = []
        for node in self.disconnections.keys.sorted() {
            var stamps = self.disconnections[node] ?? []
            stamps.removeAll { $0.time <= newest - window }
            if stamps.isEmpty {
                self.disconnections[node] = nil
                self.massLatched.remove(node)
                continue
            }
            self.disconnections[node] = stamps
            guard touched.contains(node) else { continue }
            let distinct = Set(stamps.map(\.agentID)).count
            let size = sizes[node] ?? 0
            let threshold = self.thresholds.massDisconnectThreshold(fleetSize: size)
            guard distinct >= threshold else {
                self.massLatched.remove(node)
                continue
            }
            guard !self.massLatched.contains(node) else { continue }
            self.massLatched.insert(node)
            let first = stamps.first?.time ?? 0
            findings.append(
                Finding(
                    kind: .massDisconnection, severity: "critical", agentID: nil, agentName: nil, nodeName: node,
                    observed: distinct, threshold: threshold, fleetSize: size, firstSeen: first,
                    lastSeen: stamps.last?.time,
                    explanation: "\(distinct) of \(size) agents on node \(node) disconnected within \(window)s "
                        + "(threshold \(threshold))",
                    basis: [node, "\(first)", "\(stamps.last?.time ?? 0)"]))
        }
        return findings
    }

    private mutating func noteKeepalives(_ snapshot: AgentSnapshot) {
        self.activeAgents = snapshot.counts.active
        let latest = snapshot.latestKeepalive
        if let latest, latest > (self.latestKeepalive ?? Int64.min) {
            self.latestKeepalive = latest
            self.keepaliveAdvancedAt = nil
            self.silenceLatched = false
        }
    }

    private mutating func silence(nowSeconds: Int64) -> Finding? {
        let after = self.thresholds.silenceSeconds
        guard after > 0, self.activeAgents > 0 else { return nil }
        // The clock time of the last advance is taken at the first look after it.
        let since = self.keepaliveAdvancedAt ?? nowSeconds
        self.keepaliveAdvancedAt = since
        guard nowSeconds - since >= after, !self.silenceLatched else { return nil }
        self.silenceLatched = true
        return Finding(
            kind: .fleetSilent, severity: "critical", agentID: nil, agentName: nil, nodeName: nil,
            observed: Int(nowSeconds - since), threshold: Int(after), fleetSize: self.activeAgents,
            firstSeen: self.latestKeepalive, lastSeen: nil,
            explanation: "no agent keepalive advanced for \(nowSeconds - since)s while \(self.activeAgents) "
                + "agents are active",
            basis: ["\(self.latestKeepalive ?? 0)"])
    }
}
