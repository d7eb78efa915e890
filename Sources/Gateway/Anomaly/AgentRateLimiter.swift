import WazuhSource

/// Per-agent rate limiting of the secondary subjects (`rate_limit.per_agent` per `rate_limit.window`):
/// a pure value type; the windows a cycle changed go into the anomaly state log (``AnomalyStateLog``).
///
/// Windows are fixed, aligned to multiples of the window length on the database's transition times
/// (`start = ⌊t / window⌋ · window`), per agent. The first `limit` transitions of a window are published
/// as always; the rest are *condensed*: their secondary messages (`.connected`, `.disconnected`, …) are
/// left out, their `.status` messages and batch entries are not. A window that condensed anything is
/// summed up once it is over — at the agent's first transition in a later window, or when the clock
/// passes its end (a later transition of any agent, or the clock) — in one ``Summary`` (one
/// ``WireContract/FlappingSummary`` message). Windows that condensed nothing are dropped silently.
public struct AgentRateLimiter: Sendable, Hashable {
    /// A closed window that condensed transitions.
    public struct Summary: Sendable, Hashable {
        public var agentID: Int
        public var agentName: String
        public var dateAdd: Int64
        public var windowStart: Int64
        public var windowEnd: Int64
        public var transitions: Int
        public var condensed: Int
        public var firstStatus: ConnectionStatus
        public var lastStatus: ConnectionStatus
    }

    struct Window: Sendable, Hashable {
        var start: Int64
        var agentName: String
        var dateAdd: Int64
        var transitions: Int
        var condensed: Int
        var firstStatus: ConnectionStatus
        var lastStatus: ConnectionStatus
    }

    /// Transitions per agent and window published in full; 0 disables the limiter.
    public var limit: Int
    public var windowSeconds: Int64
    /// Open windows of agents that changed recently.
    var windows: [Int: Window] = [:]
    /// Transitions condensed so far (for metrics).
    public private(set) var condensedTotal = 0
    /// Agents whose window changed since the last ``takeChangedWindows()``.
    var dirty: Set<Int> = []

    public init(limit: Int, windowSeconds: Int64) {
        self.limit = limit
        self.windowSeconds = max(1, windowSeconds)
    }

    public var isEnabled: Bool { self.limit > 0 }

    /// Counts `change`; returns whether its secondary messages are condensed, and the summary of the
    /// agent's previous window when this change closed it.
    public mutating func admit(_ change: AgentChange) -> (condensed: Bool, closed: Summary?) {
        guard self.isEnabled, change.kind == .statusChange else { return (false, nil) }
        let start = Self.floor(change.transitionTime, self.windowSeconds)
        var closed: Summary?
        var window =
            self.windows[change.agentID]
            ?? Window(
                start: start, agentName: change.agentName, dateAdd: change.dateAdd, transitions: 0, condensed: 0,
                firstStatus: change.previousStatus, lastStatus: change.previousStatus)
        if window.start != start {
            closed = self.summary(of: window, agentID: change.agentID)
            window = Window(
                start: start, agentName: change.agentName, dateAdd: change.dateAdd, transitions: 0, condensed: 0,
                firstStatus: change.previousStatus, lastStatus: change.previousStatus)
        }
        window.transitions += 1
        window.lastStatus = change.currentStatus
        window.agentName = change.agentName
        let condensed = window.transitions > self.limit
        if condensed {
            window.condensed += 1
            self.condensedTotal += 1
        }
        self.windows[change.agentID] = window
        self.dirty.insert(change.agentID)
        return (condensed, closed)
    }

    /// Closes every window whose end is at or before `nowSeconds` (clock or database time: a cycle
    /// closes the windows its newest transition is past, the timer those the clock is past); returns
    /// the summaries due, in agent order.
    public mutating func closeExpired(nowSeconds: Int64) -> [Summary] {
        var ended: [Int] = []
        for (agentID, window) in self.windows where window.start + self.windowSeconds <= nowSeconds {
            ended.append(agentID)
        }
        var summaries: [Summary] = []
        for agentID in ended.sorted() {
            guard let window = self.windows.removeValue(forKey: agentID) else { continue }
            self.dirty.insert(agentID)
            if let summary = self.summary(of: window, agentID: agentID) { summaries.append(summary) }
        }
        return summaries
    }

    /// The windows changed since the last call (`nil`: closed), in agent order.
    mutating func takeChangedWindows() -> [(agentID: Int, window: Window?)] {
        defer { self.dirty.removeAll(keepingCapacity: true) }
        return self.dirty.sorted().map { ($0, self.windows[$0]) }
    }

    private func summary(of window: Window, agentID: Int) -> Summary? {
        guard window.condensed > 0 else { return nil }
        return Summary(
            agentID: agentID, agentName: window.agentName, dateAdd: window.dateAdd, windowStart: window.start,
            windowEnd: window.start + self.windowSeconds, transitions: window.transitions,
            condensed: window.condensed, firstStatus: window.firstStatus, lastStatus: window.lastStatus)
    }

    static func floor(_ value: Int64, _ divisor: Int64) -> Int64 {
        (value >= 0 ? value / divisor : (value - divisor + 1) / divisor) * divisor
    }
}

extension AgentRateLimiter.Window {
    /// One line: `start date_add transitions condensed first_status last_status name`.
    var line: String {
        var writer = StateLineWriter()
        self.write(to: &writer)
        return writer.string
    }

    /// Appends ``line`` to `writer`.
    func write(to writer: inout StateLineWriter) {
        writer.int(self.start)
        writer.space()
        writer.int(self.dateAdd)
        writer.space()
        writer.int(self.transitions)
        writer.space()
        writer.int(self.condensed)
        writer.space()
        writer.text(self.firstStatus.rawValue)
        writer.space()
        writer.text(self.lastStatus.rawValue)
        writer.space()
        writer.text(self.agentName)
    }

    init?(line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 7, let start = Int64(fields[0]), let dateAdd = Int64(fields[1]),
            let transitions = Int(fields[2]), let condensed = Int(fields[3]),
            let first = ConnectionStatus(rawValue: String(fields[4])),
            let last = ConnectionStatus(rawValue: String(fields[5]))
        else { return nil }
        self.init(
            start: start, agentName: StateLine.unescape(fields[6]), dateAdd: dateAdd, transitions: transitions,
            condensed: condensed, firstStatus: first, lastStatus: last)
    }
}
