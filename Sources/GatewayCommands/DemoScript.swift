import Foundation
import Gateway
import WazuhSimulator

/// The demo's manager activity: every kind of event within the first minute, then steady traffic.
///
/// Second by second from the start: 2 s two agents register, 3–4 s they connect (pending, then
/// active), 6 s an agent stops, 9 s another misses its keepalives, 12–13 s the stopped one returns,
/// 16 s the manager restarts (every agent disconnected, all back within 20 s), 40 s an agent is
/// removed, 45 s another is registered again. Keepalives throughout; after 50 s the churn scenario.
struct DemoScript {
    private var done: Set<Int> = []
    private var registered: [Int] = []
    private var stopped: Int?

    /// Applies what is due at `elapsedSeconds`, plus the regular step (keepalives, scheduled returns).
    mutating func advance(_ simulator: WazuhSimulator, elapsedSeconds: Int) throws {
        simulator.now = max(simulator.now, Int64(Date().timeIntervalSince1970))
        for second in 0...elapsedSeconds where !self.done.contains(second) {
            self.done.insert(second)
            try self.act(simulator, at: second)
        }
        try simulator.step(elapsedSeconds >= 50 ? .churn : .steady, starting: false)
        try simulator.commitIfDue()
    }

    private mutating func act(_ simulator: WazuhSimulator, at second: Int) throws {
        switch second {
        case 2:
            for _ in 0..<2 {
                if let id = try simulator.apply(.register) { self.registered.append(id) }
            }
        case 3:
            for id in self.registered { try simulator.apply(.connect(agentID: id)) }
        case 4:
            for id in self.registered { try simulator.apply(.activate(agentID: id)) }
        case 6:
            if let id = self.active(simulator, excluding: []).first {
                try simulator.apply(.stop(agentID: id))
                self.stopped = id
            }
        case 9:
            if let id = self.active(simulator, excluding: [self.stopped].compactMap { $0 }).dropFirst().first {
                try simulator.apply(.keepaliveTimeout(agentID: id))
            }
        case 12:
            if let id = self.stopped { try simulator.apply(.connect(agentID: id)) }
        case 13:
            if let id = self.stopped { try simulator.apply(.activate(agentID: id)) }
        case 16:
            try simulator.restartStormWithReturns()
        case 40:
            if let id = simulator.agentIDs.last { try simulator.apply(.remove(agentID: id)) }
        case 45:
            if let id = simulator.agentIDs.first { try simulator.apply(.reRegister(agentID: id)) }
        default:
            break
        }
    }

    private func active(_ simulator: WazuhSimulator, excluding: [Int]) -> [Int] {
        simulator.agents(withStatus: "active").filter { !excluding.contains($0) && !self.registered.contains($0) }
    }
}
