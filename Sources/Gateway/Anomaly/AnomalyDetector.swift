import WazuhSource
import WireContract

/// Finds unusual status patterns in the detection cycles' changes: a pure value type with explainable
/// counters and sliding windows, fed one cycle at a time and mutated in place.
///
/// Windows run on the database's own transition times (so a restart, or a second gateway, counts the
/// same); fleet silence and the hand-stop grace period use the injected clock (`nowSeconds`). Each rule
/// latches once raised and re-arms only when its counter falls back below the threshold, so an episode
/// is reported once; finding ids derive from database data only (``AnomalyEvent/makeID(kind:basis:)``),
/// so re-detecting a cycle after a restart repeats ids that the outbox and JetStream drop.
///
/// Cost: a cycle touches only the agents it changed (plus a scan of the snapshot for scope sizes when a
/// disconnection counted); ``takeStateChanges()`` hands back only what changed, which the journal appends
/// to its state log (``AnomalyStateLog``), so it never rewrites the whole state.
///
/// Rules (thresholds in ``AnomalyThresholds``):
/// - **mass disconnection**: per cluster node, distinct agents entering Disconnected within `window`
///   ≥ max(`mass_disconnect_min_agents`, `mass_disconnect_percent` of the node's agents); a manager
///   restart's disconnections (reason `manager_restart`) are not counted. The same per agent group
///   (global.db's `group` column) with `group_disconnect_min_agents` / `group_disconnect_percent`, except
///   for a group holding the whole fleet (Wazuh's `default`, usually), which the per-node rule covers
///   (``groupMassDisconnections(touched:snapshot:)``).
/// - **agent stopped**: an agent that had no other status change for a whole `window` is stopped by hand
///   (`agent_stopped`) outside every maintenance window (none configured: at any time) and is still
///   disconnected `stop_grace` later — a restart is not a finding. When more than `stop_max_per_window`
///   agents are stopped by hand within a window of each other, that is a planned shutdown: each stop is
///   left to the mass-disconnection rule instead of being reported one by one.
/// - **flapping**: more than `flapping_transitions` status changes of one agent within `window`.
/// - **re-registration**: a registration whose agent id or name was seen before (also removed ones).
/// - **fleet silent**: no agent's `last_keepalive` advanced for `silence_after` while agents are
///   Active (the gateway reads global.db, so "the manager is up" means the source reads succeed).
public struct AnomalyDetector: Sendable {
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
        /// The agent group concerned (per-group mass disconnection), or `nil`.
        public var group: String? = nil

        public var eventID: String { AnomalyEvent.makeID(kind: self.kind, basis: self.basis) }
    }

    /// The `meta` key of the fleet-wide part (latches, keepalive progress).
    public static let fleetKey = "anomaly_state"
    /// The `meta` key of the removed agents remembered for the re-registration rule.
    public static let retiredKey = "anomaly.retired"

    public var thresholds: AnomalyThresholds
    var fleet = AnomalyFleetState()
    var retired = RetiredAgents()
    /// Agents that changed within the window (or have a hand stop pending).
    var tracks: [Int: AnomalyAgentTrack] = [:]
    /// Per cluster node: agents that entered Disconnected within the window (memory only).
    var disconnections: [String: DisconnectionWindow] = [:]
    /// Per agent group: agents that entered Disconnected within the window (memory only).
    var groupDisconnections: [String: DisconnectionWindow] = [:]
    /// Agents with a hand stop waiting for its grace period (memory only).
    var pendingStops: Set<Int> = []
    /// (lastSeen, agent) in the order tracks were touched: pruning pops from the front (memory only).
    var expiry: [(time: Int64, agentID: Int)] = []
    var expiryHead = 0
    /// What changed since the last ``takeStateChanges()``.
    var dirtyAgents: Set<Int> = []
    var fleetDirty = false
    var retiredDirty = false

    public init(thresholds: AnomalyThresholds) {
        self.thresholds = thresholds
    }

    /// Learns the fleet of `snapshot` without reporting anything (a baseline, or state from an older
    /// gateway that kept none).
    public mutating func seed(with snapshot: AgentSnapshot, nowSeconds: Int64) {
        self.fleet.seeded = true
        self.fleet.latestKeepalive = snapshot.latestKeepalive
        self.fleet.keepaliveAdvancedAt = nowSeconds
        self.fleet.activeAgents = snapshot.counts.active
        self.fleetDirty = true
    }

    /// Whether ``seed(with:nowSeconds:)`` ran (state restored from the outbox counts).
    public var isSeeded: Bool { self.fleet.seeded }

    /// Feeds one journaled cycle: its changes and the snapshot after them. Returns the new findings.
    public mutating func observe(
        _ changes: [AgentChange], snapshot: AgentSnapshot, managerNode: String, nowSeconds: Int64
    ) -> [Finding] {
        guard self.thresholds.enabled else { return [] }
        if !self.fleet.seeded { self.seed(with: snapshot, nowSeconds: nowSeconds) }
        var findings: [Finding] = []
        var touchedNodes: Set<String> = []
        var touchedGroups: Set<String> = []
        for change in changes {
            let node = change.nodeName ?? managerNode
            if change.transitionTime > (self.fleet.newestTransition ?? Int64.min) {
                self.fleet.newestTransition = change.transitionTime
                self.fleetDirty = true
            }
            if change.kind == .registered,
                let finding = self.reregistration(change, node: node, snapshot: snapshot)
            {
                findings.append(finding)
            }
            if change.kind == .removed { self.retire(change) }
            if let finding = self.track(
                change, node: node, snapshot: snapshot, touchedNodes: &touchedNodes, touchedGroups: &touchedGroups)
            {
                findings.append(finding)
            }
        }
        // One pass over the snapshot for the node sizes and the latest keepalive.
        let sizes = snapshot.nodeSizes
        findings += self.massDisconnections(touched: touchedNodes, nodeSizes: sizes, managerNode: managerNode)
        findings += self.groupMassDisconnections(touched: touchedGroups, snapshot: snapshot)
        self.pruneTracks()
        findings += self.matureStops(nowSeconds: nowSeconds)
        self.noteKeepalives(active: snapshot.counts.active, latest: sizes.latestKeepalive)
        if let silent = self.silence(nowSeconds: nowSeconds) { findings.append(silent) }
        return findings
    }

    /// Checks the clock-driven rules between cycles (fleet silence, hand stops past their grace).
    public mutating func tick(nowSeconds: Int64) -> [Finding] {
        guard self.thresholds.enabled, self.fleet.seeded else { return [] }
        var findings = self.matureStops(nowSeconds: nowSeconds)
        if let silent = self.silence(nowSeconds: nowSeconds) { findings.append(silent) }
        return findings
    }

    /// Counts `change` in its agent's track; returns a flapping finding when it crossed the threshold.
    private mutating func track(
        _ change: AgentChange, node: String, snapshot: AgentSnapshot, touchedNodes: inout Set<String>,
        touchedGroups: inout Set<String>
    ) -> Finding? {
        // Taken out of the dictionary (not copied): the track is then uniquely referenced, so appending to
        // its transitions does not copy them.
        var track =
            self.tracks.removeValue(forKey: change.agentID)
            ?? AnomalyAgentTrack(
                name: change.agentName, dateAdd: change.dateAdd, node: node, lastSeen: change.transitionTime)
        let changedBefore = track.transitions.contains { $0 > change.transitionTime - self.thresholds.windowSeconds }
        track.name = change.agentName
        track.dateAdd = change.dateAdd
        track.node = node
        track.lastSeen = max(track.lastSeen, change.transitionTime)
        var finding: Finding?
        if change.kind == .statusChange { finding = self.flapping(change, node: node, track: &track) }
        if change.kind == .removed || change.currentStatus != .disconnected {
            track.pendingStopAt = nil
            self.pendingStops.remove(change.agentID)
        }
        // A manager restart (status code 5) disconnects everyone by the manager's own doing: not counted.
        if change.currentStatus == .disconnected, change.previousStatus != .disconnected,
            change.reason != .managerRestart
        {
            track.disconnectedAt = change.transitionTime
            self.disconnections[node, default: DisconnectionWindow()].insert(
                agentID: change.agentID, time: change.transitionTime)
            touchedNodes.insert(node)
            track.groups = snapshot.groups(ofAgentID: change.agentID) ?? ""
            self.countGroupDisconnection(
                agentID: change.agentID, groups: track.groups, time: change.transitionTime, touched: &touchedGroups)
            if change.reason == .agentStopped {
                track.lastStopAt = change.transitionTime
                if !changedBefore, !self.thresholds.inMaintenance(unixSeconds: change.transitionTime) {
                    track.pendingStopAt = change.transitionTime
                    self.pendingStops.insert(change.agentID)
                }
            }
        }
        self.tracks[change.agentID] = track
        self.dirtyAgents.insert(change.agentID)
        self.expiry.append((track.lastSeen, change.agentID))
        return finding
    }

    // MARK: State

    /// What changed since the last call — the tracks touched (`nil`: forgotten), and the fleet-wide and
    /// retired parts when they changed — then forgets it: call it once per journaled cycle.
    mutating func takeStateChanges() -> (
        tracks: [(agentID: Int, track: AnomalyAgentTrack?)], fleet: String?, retired: String?
    ) {
        let tracks = self.dirtyAgents.sorted().map { ($0, self.tracks[$0]) }
        let fleet = self.fleetDirty ? self.fleet.encoded : nil
        let retired = self.retiredDirty ? self.retired.encoded : nil
        self.dirtyAgents.removeAll(keepingCapacity: true)
        self.fleetDirty = false
        self.retiredDirty = false
        return (tracks, fleet, retired)
    }

    /// A detector with restored state (unreadable parts start empty).
    init(thresholds: AnomalyThresholds, fleet: String?, retired: String?, tracks: [Int: AnomalyAgentTrack]) {
        self.init(thresholds: thresholds)
        if let fleet, let state = AnomalyFleetState(encoded: fleet) { self.fleet = state }
        if let retired, let state = RetiredAgents(encoded: retired) { self.retired = state }
        self.tracks = tracks
        for (agentID, track) in tracks.sorted(by: { ($0.value.lastSeen, $0.key) < ($1.value.lastSeen, $1.key) }) {
            self.expiry.append((track.lastSeen, agentID))
            if track.pendingStopAt != nil { self.pendingStops.insert(agentID) }
            if let time = track.disconnectedAt {
                self.disconnections[track.node, default: DisconnectionWindow()].insert(agentID: agentID, time: time)
                var ignored: Set<String> = []
                self.countGroupDisconnection(agentID: agentID, groups: track.groups, time: time, touched: &ignored)
            }
        }
    }
}
