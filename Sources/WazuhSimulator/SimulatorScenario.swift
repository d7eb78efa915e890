import Foundation
import Timekeeping

/// A named pattern of manager activity for ``WazuhSimulator/run(_:until:tick:)``.
public enum SimulatorScenario: String, Sendable, CaseIterable {
    /// Keepalives, plus occasional keepalive timeouts and reconnections, and agents restarted by hand
    /// (stopped, back 15 s to 3 min later).
    case steady
    /// One manager restart at the start (every active/pending agent disconnected with code 5),
    /// then every agent returns (pending, then active) within `reconnectPeriod`; keepalives throughout.
    case restartStorm = "restart-storm"
    /// Steady activity plus registrations, removals and re-registrations.
    case churn
    /// A handful of agents stopping and reconnecting over and over.
    case flapping
    /// Keepalives only: a quiet fleet whose rows change at every notify interval without any status change.
    case keepalive
    /// Keepalives only, after 60 % of the first cluster node's active agents time out at once at the
    /// start (raises the gateway's `mass_disconnection` anomaly).
    case massDisconnect = "mass-disconnect"
    /// Keepalives only, after one active agent is stopped by hand at the start (`agent_stopped`: raises
    /// the anomaly of that name outside the configured maintenance windows).
    case handStop = "hand-stop"
    /// Keepalives only, after one agent is removed and registered again under the same id at the start
    /// (raises `reregistration`).
    case reregister
    /// Keepalives only, after 60 % of the active agents are stopped by hand at the start, none coming
    /// back (a planned shutdown: raises `mass_disconnection`, never one `agent_stopped` per agent).
    case plannedShutdown = "planned-shutdown"
    /// Nothing at all: no keepalive, no status change (the fleet goes silent: `fleet_silent`).
    case silent
}

extension WazuhSimulator {
    /// Runs `scenario` in real time until `deadline` or cancellation, then commits what is open.
    /// Every `tick` it follows the wall clock (``now``), writes due keepalives and scheduled
    /// returns, the scenario's random events, and commits when wazuh-db would.
    public func run(
        _ scenario: SimulatorScenario, until deadline: ContinuousClock.Instant, tick: Duration = .milliseconds(100)
    ) async throws {
        let clock = ContinuousClock()
        var first = true
        while clock.now < deadline, !Task.isCancelled {
            nowMilliseconds = max(nowMilliseconds, Int64(Date().timeIntervalSince1970 * 1000))
            try step(scenario, starting: first)
            first = false
            try commitIfDue()
            do {
                try await Task.sleep(for: min(tick, max(deadline - clock.now, .zero)))
            } catch {
                break
            }
        }
        try commit()
    }

    /// One deterministic step at the current ``now``: scheduled returns, due keepalives, and the
    /// scenario's events for this step. `starting` marks the first step (the restart storm happens then).
    public func step(_ scenario: SimulatorScenario, starting: Bool = false) throws {
        try runSchedule()
        if scenario == .silent { return }
        try keepalivesDue()
        let ids = agentIDs
        guard !ids.isEmpty || scenario == .churn else { return }
        switch scenario {
        case .steady:
            try randomDisconnections(ids, rate: 0.0005)
        case .massDisconnect:
            if starting {
                let node = configuration.clusterNodes.first
                let onNode = agents.values.filter { $0.status == "active" && $0.nodeName == node }.map(\.id).sorted()
                for id in onNode.prefix((onNode.count * 6 + 9) / 10) { try apply(.keepaliveTimeout(agentID: id)) }
            }
        case .handStop:
            if starting, let id = agents(withStatus: "active").first { try apply(.stop(agentID: id)) }
        case .reregister:
            if starting, let id = ids.first { try apply(.reRegister(agentID: id)) }
        case .plannedShutdown:
            if starting {
                let active = agents(withStatus: "active")
                for id in active.prefix((active.count * 6 + 9) / 10) { try apply(.stop(agentID: id)) }
            }
        case .keepalive, .silent:
            break
        case .restartStorm:
            if starting { try restartStormWithReturns() }
        case .churn:
            try randomDisconnections(ids, rate: 0.0005)
            let roll = Double.random(in: 0..<1, using: &random)
            if roll < 0.3 {
                try apply(.register)
            } else if roll < 0.45, let id = ids.randomElement(using: &random) {
                try apply(.remove(agentID: id))
            } else if roll < 0.5, let id = ids.randomElement(using: &random) {
                try apply(.reRegister(agentID: id))
            }
        case .flapping:
            for id in ids.prefix(5) {
                switch status(of: id) {
                case "active": if Bool.random(using: &random) { try apply(.stop(agentID: id)) }
                case "disconnected", "never_connected": try apply(.connect(agentID: id))
                case "pending": try apply(.activate(agentID: id))
                default: break
                }
            }
        }
    }

    /// The storm plus each agent's return: `connect` at a random moment within `reconnectPeriod`
    /// (the connect schedules the agent's `activate` one second to one notify interval later).
    public func restartStormWithReturns() throws {
        let affected = agents.values.filter { $0.status == "active" || $0.status == "pending" }.map(\.id).sorted()
        try apply(.restartStorm)
        let period = max(configuration.reconnectPeriod.wholeMilliseconds, 0)
        schedule.removeAll { affected.contains($0.agentID) }
        for id in affected {
            schedule(.connect(agentID: id), agentID: id, after: Int64.random(in: 0...period, using: &random))
        }
    }

    private func runSchedule() throws {
        guard !schedule.isEmpty else { return }
        let current = nowMilliseconds
        let due = schedule.filter { $0.due <= current }.sorted { ($0.due, $0.agentID) < ($1.due, $1.agentID) }
        guard !due.isEmpty else { return }
        schedule.removeAll { $0.due <= current }
        for item in due {
            let applied = try apply(item.action)
            if case .connect = item.action, let id = applied { scheduleActivation(agentID: id) }
        }
    }

    private func keepalivesDue() throws {
        let notify = Int64(notifyInterval.components.seconds)
        for (id, agent) in agents where agent.status == "active" {
            if let last = agent.lastKeepalive, now - last < notify { continue }
            try apply(.keepalive(agentID: id))
        }
    }

    private func randomDisconnections(_ ids: [Int], rate: Double) throws {
        let expected = Double(ids.count) * rate
        var events = Int(expected)
        if Double.random(in: 0..<1, using: &random) < expected - Double(events) { events += 1 }
        for _ in 0..<events {
            guard let id = ids.randomElement(using: &random) else { return }
            switch status(of: id) {
            case "active":
                if Bool.random(using: &random) {
                    // Stopped by hand to be restarted (an upgrade, a configuration change): back shortly.
                    try apply(.stop(agentID: id))
                    schedule(
                        .connect(agentID: id), agentID: id, after: Int64.random(in: 15_000...180_000, using: &random))
                } else {
                    try apply(.keepaliveTimeout(agentID: id))
                }
            case "disconnected", "never_connected":
                try apply(.connect(agentID: id))
                scheduleActivation(agentID: id)
            default: break
            }
        }
    }
}
