import WireContract

/// What the anomaly rules remember about one agent that changed recently: its status changes within
/// the window, its last disconnection that counts towards a mass disconnection, and a hand stop
/// waiting for its grace period.
///
/// Persisted one agent at a time (outbox `meta` key `anomaly.agent.<id>`, a small JSON object), so a
/// cycle writes only the agents it touched, never the whole state.
struct AnomalyAgentTrack: Sendable, Hashable {
    var name: String
    var dateAdd: Int64
    /// The cluster node the agent reported to at its last change (the manager node when unknown).
    var node: String
    /// Times (database) of its status changes within the window, oldest first.
    var transitions: [Int64] = []
    var flappingLatched = false
    /// Its last entry into Disconnected that counts towards mass disconnection (not a manager restart).
    var disconnectedAt: Int64?
    /// A hand stop (`agent_stopped`) still waiting for the grace period: its transition time.
    var pendingStopAt: Int64?
    /// Its last hand stop that was reported or counted (kept a while for the shutdown bound).
    var lastStopAt: Int64?
    /// The latest database time this track was touched; the track is forgotten a window later.
    var lastSeen: Int64

    init(name: String, dateAdd: Int64, node: String, lastSeen: Int64) {
        self.name = name
        self.dateAdd = dateAdd
        self.node = node
        self.lastSeen = lastSeen
    }

    /// Whether nothing in the track still matters at database time `newest`.
    func isExpired(newest: Int64, window: Int64) -> Bool {
        guard self.pendingStopAt == nil, self.lastSeen <= newest - window else { return false }
        return (self.lastStopAt ?? Int64.min) <= newest - 2 * window
    }

    // MARK: Persistence

    var encoded: String {
        var object: [String: JSONValue] = [
            "name": .string(self.name), "date_add": .int(self.dateAdd), "node": .string(self.node),
            "transitions": .array(self.transitions.map { .int($0) }), "last_seen": .int(self.lastSeen),
        ]
        if self.flappingLatched { object["flapping"] = .bool(true) }
        if let disconnectedAt { object["disconnected_at"] = .int(disconnectedAt) }
        if let pendingStopAt { object["pending_stop_at"] = .int(pendingStopAt) }
        if let lastStopAt { object["last_stop_at"] = .int(lastStopAt) }
        // Strings, integers and booleans only: serialization cannot fail.
        return String(decoding: (try? CanonicalJSON.serialize(.object(object))) ?? [], as: UTF8.self)
    }

    init?(encoded text: String) {
        guard let object = try? JSONParser().parse(Array(text.utf8)).objectValue,
            let name = object["name"]?.stringValue, let dateAdd = object["date_add"]?.intValue,
            let node = object["node"]?.stringValue, let lastSeen = object["last_seen"]?.intValue,
            let times = object["transitions"]?.arrayValue
        else { return nil }
        self.init(name: name, dateAdd: dateAdd, node: node, lastSeen: lastSeen)
        self.transitions = times.compactMap(\.intValue)
        self.flappingLatched = object["flapping"] == .bool(true)
        self.disconnectedAt = object["disconnected_at"]?.intValue
        self.pendingStopAt = object["pending_stop_at"]?.intValue
        self.lastStopAt = object["last_stop_at"]?.intValue
    }
}

/// Agents that entered Disconnected within the window, per scope (a cluster node): a sliding window
/// kept in memory only (rebuilt from the agents' tracks on restore), with each agent counted once.
struct DisconnectionWindow: Sendable, Hashable {
    struct Stamp: Sendable, Hashable {
        var agentID: Int
        var time: Int64
    }

    /// Oldest first.
    private(set) var stamps: [Stamp] = []
    private var head = 0
    /// How many stamps each agent has in the window.
    private var perAgent: [Int: Int] = [:]

    var distinctAgents: Int { self.perAgent.count }
    var isEmpty: Bool { self.head == self.stamps.count }
    var first: Int64? { self.isEmpty ? nil : self.stamps[self.head].time }
    var last: Int64? { self.stamps.last?.time }

    mutating func insert(agentID: Int, time: Int64) {
        var index = self.stamps.count
        while index > self.head, self.stamps[index - 1].time > time { index -= 1 }
        self.stamps.insert(Stamp(agentID: agentID, time: time), at: index)
        self.perAgent[agentID, default: 0] += 1
    }

    /// Drops stamps at or before `cutoff`.
    mutating func prune(through cutoff: Int64) {
        while self.head < self.stamps.count, self.stamps[self.head].time <= cutoff {
            let agent = self.stamps[self.head].agentID
            let left = (self.perAgent[agent] ?? 1) - 1
            self.perAgent[agent] = left > 0 ? left : nil
            self.head += 1
        }
        if self.head > 64, self.head * 2 > self.stamps.count {
            self.stamps.removeFirst(self.head)
            self.head = 0
        }
    }
}
