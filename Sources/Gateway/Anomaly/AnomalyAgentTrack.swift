import Foundation

/// What the anomaly rules remember about one agent that changed recently: its status changes within
/// the window, its last disconnection that counts towards a mass disconnection, and a hand stop
/// waiting for its grace period.
///
/// Persisted as one text line per agent in the state log (``AnomalyStateLog``), so a cycle writes only
/// the agents it touched, never the whole state.
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
    /// Its agent groups at that disconnection (global.db's `group` value, comma-separated; empty: none).
    var groups = ""
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

    /// One line: `date_add last_seen flapping disconnected_at pending_stop_at last_stop_at times node name
    /// groups` (`-` for none, times comma-separated, node, name and groups escaped by ``StateLine``; lines
    /// journaled before groups were tracked end after the name).
    var line: String {
        var writer = StateLineWriter()
        self.write(to: &writer)
        return writer.string
    }

    /// Appends ``line`` to `writer`.
    func write(to writer: inout StateLineWriter) {
        writer.int(self.dateAdd)
        writer.space()
        writer.int(self.lastSeen)
        writer.space()
        writer.byte(self.flappingLatched ? 0x31 : 0x30)
        writer.space()
        writer.optional(self.disconnectedAt)
        writer.space()
        writer.optional(self.pendingStopAt)
        writer.space()
        writer.optional(self.lastStopAt)
        writer.space()
        if self.transitions.isEmpty {
            writer.byte(0x2D)
        } else {
            for (index, time) in self.transitions.enumerated() {
                if index > 0 { writer.byte(0x2C) }
                writer.int(time)
            }
        }
        writer.space()
        writer.text(self.node)
        writer.space()
        writer.text(self.name)
        writer.space()
        writer.text(self.groups)
    }

    init?(line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 9 || fields.count == 10, let dateAdd = Int64(fields[0]), let lastSeen = Int64(fields[1])
        else { return nil }
        self.init(
            name: StateLine.unescape(fields[8]), dateAdd: dateAdd, node: StateLine.unescape(fields[7]),
            lastSeen: lastSeen)
        self.flappingLatched = fields[2] == "1"
        self.disconnectedAt = Int64(fields[3])
        self.pendingStopAt = Int64(fields[4])
        self.lastStopAt = Int64(fields[5])
        self.transitions = fields[6] == "-" ? [] : fields[6].split(separator: ",").compactMap { Int64($0) }
        if fields.count == 10 { self.groups = StateLine.unescape(fields[9]) }
    }
}

/// The text form of persisted state lines: space-separated fields, `-` for none; text fields escape `%`,
/// space and line breaks as `%25`, `%20`, `%0A`, `%0D` (agent and node names never hold them in
/// practice, so the common path copies the text as it is).
enum StateLine {
    static func optional(_ value: Int64?) -> String { value.map(String.init) ?? "-" }

    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x25 || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }) || text.isEmpty
        else { return text }
        if text.isEmpty { return "%" }
        return text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: " ", with: "%20")
            .replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "\r", with: "%0D")
    }

    static func unescape(_ text: Substring) -> String {
        guard text.contains("%") else { return String(text) }
        if text == "%" { return "" }
        return text.replacingOccurrences(of: "%0D", with: "\r").replacingOccurrences(of: "%0A", with: "\n")
            .replacingOccurrences(of: "%20", with: " ").replacingOccurrences(of: "%25", with: "%")
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

extension DisconnectionWindow {
    /// A scope (cluster node, agent group) whose window reached its threshold and was latched this cycle.
    struct Crossing {
        var scope: String
        var distinct: Int
        var threshold: Int
        var first: Int64
        var last: Int64
    }

    /// Prunes every scope's window through `cutoff`, forgetting empty ones and their latches; of the
    /// `touched` scopes, unlatches those below `threshold(scope)` (`nil`: never reported) and latches and
    /// returns those that reached it unlatched. `latchesChanged` tells whether `latched` changed.
    static func crossings(
        _ windows: inout [String: DisconnectionWindow], latched: inout Set<String>, touched: Set<String>,
        through cutoff: Int64, threshold: (String) -> Int?
    ) -> (crossings: [Crossing], latchesChanged: Bool) {
        var crossings: [Crossing] = []
        var changed = false
        for scope in windows.keys.sorted() {
            // Pruned in place: a copy taken out of the dictionary would copy the stamps and counts too.
            windows[scope]?.prune(through: cutoff)
            guard let stamps = windows[scope], let first = stamps.first, let last = stamps.last else {
                windows[scope] = nil
                if latched.remove(scope) != nil { changed = true }
                continue
            }
            guard touched.contains(scope) else { continue }
            let distinct = stamps.distinctAgents
            guard let bound = threshold(scope), distinct >= bound else {
                if latched.remove(scope) != nil { changed = true }
                continue
            }
            guard latched.insert(scope).inserted else { continue }
            changed = true
            crossings.append(Crossing(scope: scope, distinct: distinct, threshold: bound, first: first, last: last))
        }
        return (crossings, changed)
    }
}
