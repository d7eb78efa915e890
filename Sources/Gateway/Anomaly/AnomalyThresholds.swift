import Foundation

/// The `anomaly:` configuration section: which status patterns ``AnomalyDetector`` reports and at what
/// thresholds. The defaults are conservative: a steady fleet's ordinary churn never crosses them.
public struct AnomalyThresholds: Sendable, Hashable, Codable {
    /// `anomaly.enabled`.
    public var enabled: Bool = true
    /// `anomaly.window`: the sliding window of the mass-disconnection and flapping counters.
    public var windowSeconds: Int64 = 600
    /// `anomaly.mass_disconnect_percent`: share of a cluster node's agents that must enter
    /// Disconnected within the window …
    public var massDisconnectPercent: Int = 50
    /// … `anomaly.mass_disconnect_min_agents`: and at least this many of them.
    public var massDisconnectMinAgents: Int = 10
    /// `anomaly.flapping_transitions`: more status changes than this by one agent within the window.
    public var flappingTransitions: Int = 10
    /// `anomaly.silence_after`: no agent's keepalive advanced for this long while agents are active.
    /// 0 turns the rule off.
    public var silenceSeconds: Int64 = 900
    /// `anomaly.reregistration`: report an agent registered under a name or id that existed before.
    public var reregistration: Bool = true
    /// `anomaly.maintenance_windows`: daily UTC windows (`HH:MM-HH:MM`) in which stopping agents by
    /// hand is expected. A hand stop (`agent_stopped`) outside them is reported; with none configured,
    /// every hand stop is outside.
    public var maintenanceWindows: [DailyWindow] = []
    /// `anomaly.stop_grace`: a hand-stopped agent is reported only when it is still disconnected this
    /// long after the stop (an agent restarted by hand comes back within it).
    public var stopGraceSeconds: Int64 = 600
    /// `anomaly.stop_max_per_window`: when more agents than this are stopped by hand within a window of
    /// each other it is a planned shutdown, left to the mass-disconnection rule; 0 reports no hand stop.
    public var stopMaxPerWindow: Int = 5

    public init() {}

    /// The smallest number of disconnected agents that counts as a mass disconnection in a scope of
    /// `fleetSize` agents.
    public func massDisconnectThreshold(fleetSize: Int) -> Int {
        let share = (fleetSize * self.massDisconnectPercent + 99) / 100
        return max(self.massDisconnectMinAgents, share, 1)
    }

    /// Whether `unixSeconds` falls inside a maintenance window.
    public func inMaintenance(unixSeconds: Int64) -> Bool {
        let minute = Int(((unixSeconds % 86_400) + 86_400) % 86_400 / 60)
        return self.maintenanceWindows.contains { $0.contains(minuteOfDay: minute) }
    }
}

/// A daily window in UTC, `HH:MM-HH:MM`; one ending before it starts runs over midnight.
public struct DailyWindow: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Minutes after midnight UTC.
    public var startMinute: Int
    public var endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    /// Parses `HH:MM-HH:MM`; `nil` for anything else.
    public init?(parsing text: String) {
        let halves = text.trimmingCharacters(in: .whitespaces).split(separator: "-")
        guard halves.count == 2, let start = Self.minute(halves[0]), let end = Self.minute(halves[1]) else {
            return nil
        }
        self.init(startMinute: start, endMinute: end)
    }

    private static func minute(_ text: Substring) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0...23).contains(hour), (0...59).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    public func contains(minuteOfDay minute: Int) -> Bool {
        self.startMinute <= self.endMinute
            ? (self.startMinute..<self.endMinute).contains(minute)
            : minute >= self.startMinute || minute < self.endMinute
    }

    public var description: String {
        func text(_ minute: Int) -> String {
            let hour = minute / 60
            let rest = minute % 60
            return (hour < 10 ? "0" : "") + "\(hour):" + (rest < 10 ? "0" : "") + "\(rest)"
        }
        return text(self.startMinute) + "-" + text(self.endMinute)
    }
}
