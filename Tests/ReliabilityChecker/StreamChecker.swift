import WazuhSimulator
import WireContract

/// What ``StreamChecker`` found: every violation in words, and the counts the reliability report shows.
public struct StreamCheckReport: Sendable, CustomStringConvertible {
    public var violations: [String] = []
    /// Messages read from the stream (every kind).
    public var messages = 0
    /// Events on `{p}.agent.{id}.status`.
    public var statusEvents = 0
    /// Transitions the simulator committed after the initial fleet.
    public var committedTransitions = 0
    /// Committed transitions found in the stream as their own event.
    public var deliveredTransitions = 0
    /// Committed transitions overtaken by a later commit before the gateway read them (covered by one
    /// event from the earlier to the later status). A violation when every transition is required.
    public var coalescedTransitions = 0
    /// Committed transitions the stream skips without an event covering them.
    public var lostTransitions = 0
    /// Events or transitions stored more than once.
    public var duplicates = 0
    /// Events whose status change the simulator never committed.
    public var inventedEvents = 0

    public var passed: Bool { violations.isEmpty }

    public var description: String {
        let head =
            "messages=\(messages) status_events=\(statusEvents) committed=\(committedTransitions) "
            + "delivered=\(deliveredTransitions) coalesced=\(coalescedTransitions) lost=\(lostTransitions) "
            + "duplicates=\(duplicates) invented=\(inventedEvents)"
        guard !violations.isEmpty else { return head + " — passed" }
        return head + "\n" + violations.prefix(40).joined(separator: "\n")
            + (violations.count > 40 ? "\n… \(violations.count - 40) more" : "")
    }
}

/// The independent judge of a reliability run: compares the stream, read back by ``StreamReader``,
/// with the simulator's ground truth (``CommittedTransition``s) and global.db's final state.
///
/// Per agent it proves: the first event starts from the agent's initial status; each event's
/// `previous_status` is the previous event's `current_status`; the last `current_status` is the
/// agent's final status in global.db; no `Nats-Msg-Id` and no transition is stored twice; every
/// committed transition is in the stream (or, when ``requireEveryTransition`` is off, covered by an
/// event spanning it); no event shows a change that was never committed. Every message must open and
/// verify. Pure: no I/O.
public struct StreamChecker: Sendable {
    /// Whether a committed transition covered only by a wider event (coalesced) is a violation.
    public var requireEveryTransition: Bool

    public init(requireEveryTransition: Bool = true) {
        self.requireEveryTransition = requireEveryTransition
    }

    /// Checks `records` (the whole stream, in order) against `groundTruth` and `finalStatuses`
    /// (agent id → wire status in global.db at the end; an absent agent is `Unknown`).
    public func check(
        records: [StreamRecord], groundTruth: [CommittedTransition], finalStatuses: [Int: String]
    ) -> StreamCheckReport {
        var report = StreamCheckReport()
        report.messages = records.count
        checkMessages(records, &report)
        let truth = Self.statesByAgent(groundTruth, &report)
        var events: [Int: [AgentStatusEvent]] = [:]
        for record in records {
            guard case .event(let event, let channel) = record.content, channel == "status" else { continue }
            report.statusEvents += 1
            guard let id = Int(event.agentID) else {
                report.violations.append("seq \(record.sequence): agent id \(event.agentID) is not a number")
                continue
            }
            events[id, default: []].append(event)
        }
        let unknown = "Unknown"
        for id in Set(truth.keys).union(events.keys).union(finalStatuses.keys).sorted() {
            let states = truth[id] ?? []
            let final = finalStatuses[id] ?? unknown
            checkAgent(id, events: events[id] ?? [], states: states.isEmpty ? [unknown] : states, final: final, &report)
        }
        return report
    }

    /// Every message opens and verifies; no message id twice; each secondary has its status event.
    private func checkMessages(_ records: [StreamRecord], _ report: inout StreamCheckReport) {
        var seenIDs: [String: UInt64] = [:]
        var statusIDs = Set<String>()
        var transitions: [String: UInt64] = [:]
        for record in records {
            if case .unreadable(let reason) = record.content {
                report.violations.append("seq \(record.sequence) on \(record.subject) does not verify: \(reason)")
            }
            if let id = record.messageID {
                if let first = seenIDs[id] {
                    report.duplicates += 1
                    report.violations.append("Nats-Msg-Id \(id) stored twice: seq \(first) and seq \(record.sequence)")
                } else {
                    seenIDs[id] = record.sequence
                }
            }
            guard case .event(let event, let channel) = record.content, channel == "status" else { continue }
            statusIDs.insert(event.eventID)
            let key = "\(event.agentID) \(event.previousStatus)→\(event.currentStatus) @\(event.eventID)"
            if let first = transitions[key] {
                report.duplicates += 1
                report.violations.append("transition \(key) stored twice: seq \(first) and seq \(record.sequence)")
            } else {
                transitions[key] = record.sequence
            }
        }
        for record in records {
            guard case .event(let event, let channel) = record.content, channel != "status" else { continue }
            if !statusIDs.contains(event.eventID) {
                report.violations.append(
                    "seq \(record.sequence): .\(channel) event \(event.eventID) has no event on .status")
            }
        }
    }

    /// Each agent's committed statuses in order (the first is the initial status, `Unknown` for an agent
    /// registered later). Also checks the log itself is a chain.
    private static func statesByAgent(_ log: [CommittedTransition], _ report: inout StreamCheckReport) -> [Int:
        [String]]
    {
        var states: [Int: [String]] = [:]
        for transition in log {
            if transition.kind == .initial {
                states[transition.agentID] = [transition.current]
                continue
            }
            report.committedTransitions += 1
            var chain = states[transition.agentID] ?? ["Unknown"]
            if chain.last != transition.previous {
                report.violations.append(
                    "ground truth: agent \(transition.agentID) commit \(transition.commit) starts from "
                        + "\(transition.previous), the log had it \(chain.last ?? "?")")
            }
            chain.append(transition.current)
            states[transition.agentID] = chain
        }
        return states
    }

    /// Walks the agent's events along its committed statuses (earliest match first, which is optimal
    /// for a subsequence).
    private func checkAgent(
        _ id: Int, events: [AgentStatusEvent], states: [String], final: String, _ report: inout StreamCheckReport
    ) {
        let agent = "agent \(id)"
        var position = 0
        for (index, event) in events.enumerated() {
            let here = states[position]
            if event.previousStatus != here {
                let after = index == 0 ? "its initial status is" : "the previous event ended at"
                report.violations.append(
                    "\(agent): event \(event.eventID) starts from \(event.previousStatus) but \(after) \(here)")
            }
            // The ground-truth position this event starts from: where it says it starts, at or after here.
            var start = position
            if event.previousStatus != here {
                guard let found = states[position...].firstIndex(of: event.previousStatus) else {
                    report.inventedEvents += 1
                    report.violations.append(
                        "\(agent): event \(event.eventID) \(event.previousStatus)→\(event.currentStatus) "
                            + "was never committed")
                    continue
                }
                start = found
                report.lostTransitions += start - position
            }
            guard let end = states.indices.dropFirst(start + 1).first(where: { states[$0] == event.currentStatus })
            else {
                report.inventedEvents += 1
                report.violations.append(
                    "\(agent): event \(event.eventID) \(event.previousStatus)→\(event.currentStatus) "
                        + "was never committed after position \(start)")
                continue
            }
            report.deliveredTransitions += 1
            if end - start > 1 {
                report.coalescedTransitions += end - start - 1
                if requireEveryTransition {
                    report.violations.append(
                        "\(agent): event \(event.eventID) covers \(states[start...end].joined(separator: "→")): "
                            + "\(end - start - 1) committed transition(s) missing")
                }
            }
            position = end
        }
        let reached = states[position]
        if let last = events.last, last.currentStatus != final {
            report.violations.append("\(agent): the last event ends at \(last.currentStatus), global.db says \(final)")
        } else if events.isEmpty, reached != final {
            report.violations.append("\(agent): no event, but it went from \(reached) to \(final) in global.db")
        }
        if states.last != final {
            report.violations.append("ground truth: \(agent) ends at \(states.last ?? "?"), global.db says \(final)")
        }
        if position < states.count - 1 {
            let missing = states.count - 1 - position
            if reached == states.last {
                report.coalescedTransitions += missing
                if requireEveryTransition {
                    report.violations.append(
                        "\(agent): \(missing) committed transition(s) after the last event are missing "
                            + "(\(states[position...].joined(separator: "→")))")
                }
            } else {
                report.lostTransitions += missing
                report.violations.append(
                    "\(agent): the stream stops at \(reached); committed after it: "
                        + states[position...].joined(separator: "→"))
            }
        }
    }
}
