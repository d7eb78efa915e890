import Foundation
import ReliabilityChecker
import WazuhSimulator
import WazuhSource

/// Drives a ``WazuhSimulator`` during a reliability storm so that every committed transition stays
/// observable by a snapshot-diffing reader: an agent is changed again only once its previous change is
/// in the stream (it is *settled*), so no commit can overtake another for the same agent however long
/// the gateway is down. Within that rule it mixes single changes, long wazuh-db-style transactions
/// (held open for up to a few seconds while more changes are written), keepalive sweeps (rows change,
/// statuses do not) and manager-restart storms (every active/pending agent disconnected at once).
///
/// Not thread-safe: drive it from the test's own task.
/// The simulated clock runs ahead of the wall clock (a second per step; see ``step()``).
final class ReliabilityStormDriver {
    let simulator: WazuhSimulator
    let reader: StreamReader
    private var random: SimulatorRandom
    /// Agent → the `current_status` of its last event on `.status` (its initial status before one).
    private var delivered: [Int: String] = [:]
    private(set) var statusEvents = 0
    private(set) var restartStorms = 0
    private(set) var longTransactions = 0
    /// The longest time something committed waited with no new status event arriving.
    private(set) var longestGap: Duration = .zero
    private var waitingSince: ContinuousClock.Instant?
    private var holdUntil: ContinuousClock.Instant?
    private var lastStorm = ContinuousClock.now
    private let clock = ContinuousClock()

    init(simulator: WazuhSimulator, reader: StreamReader, seed: UInt64) {
        self.simulator = simulator
        self.reader = reader
        self.random = SimulatorRandom(seed: seed)
        for id in simulator.agentIDs { delivered[id] = self.status(of: id) }
    }

    private func status(of id: Int) -> String {
        ConnectionStatus(databaseValue: simulator.status(of: id)).rawValue
    }

    /// Agents whose written status is not yet the last one delivered.
    var unsettled: [Int] { simulator.agentIDs.filter { status(of: $0) != delivered[$0] } }

    /// Reads what the stream gained; a failed read (NATS down) is retried at the next call.
    func observe() async {
        guard let records = try? await reader.readNew() else { return }
        var arrived = false
        for record in records {
            guard case .event(let event, let channel) = record.content, channel == "status", let id = Int(event.agentID)
            else { continue }
            delivered[id] = event.currentStatus
            statusEvents += 1
            arrived = true
        }
        let now = clock.now
        if arrived, let since = waitingSince { longestGap = max(longestGap, now - since) }
        let waiting = unsettled.contains { !inTransaction.contains($0) }
        if !waiting {
            waitingSince = nil
        } else if arrived || waitingSince == nil {
            waitingSince = now
        }
    }

    /// Agents changed in the open (uncommitted) transaction: nobody can see them yet.
    private var inTransaction = Set<Int>()

    /// One step of activity: a few changes to settled agents, sometimes a keepalive sweep or a restart
    /// storm, and a COMMIT unless a long transaction is being held open.
    func step() throws {
        let now = clock.now
        // Database times decide event ids (a transition is identified by its agent, statuses and time):
        // the simulated clock moves a second per step, so an agent's next change never shares a second
        // with its previous one, however fast the storm goes.
        simulator.now = max(simulator.now + 1, Int64(Date().timeIntervalSince1970))
        if !simulator.hasOpenTransaction {
            inTransaction = []
            if Double.random(in: 0..<1, using: &random) < 0.15 {
                holdUntil = now + .milliseconds(Int64.random(in: 800...3000, using: &random))
                longTransactions += 1
            } else {
                holdUntil = nil
            }
        }
        let waiting = Set(unsettled)
        if waiting.isEmpty, now - lastStorm > .seconds(6), !simulator.agents(withStatus: "active").isEmpty {
            inTransaction.formUnion(simulator.agents(withStatus: "active") + simulator.agents(withStatus: "pending"))
            try simulator.apply(.restartStorm)
            restartStorms += 1
            lastStorm = now
        } else {
            let settled = simulator.agentIDs.filter { !waiting.contains($0) }
            for id in settled.shuffled(using: &random).prefix(Int.random(in: 1...4, using: &random)) {
                try simulator.apply(nextAction(for: id))
                inTransaction.insert(id)
            }
            if Double.random(in: 0..<1, using: &random) < 0.05 { try simulator.apply(.keepaliveAll) }
        }
        if let holdUntil, now < holdUntil { return }
        try simulator.commit()
        inTransaction = []
    }

    /// Commits whatever is open (the end of the storm).
    func finish() throws {
        try simulator.commit()
        inTransaction = []
    }

    private func nextAction(for id: Int) -> SimulatorAction {
        switch simulator.status(of: id) {
        case "active": return Bool.random(using: &random) ? .stop(agentID: id) : .keepaliveTimeout(agentID: id)
        case "pending": return .activate(agentID: id)
        default: return .connect(agentID: id)
        }
    }
}
