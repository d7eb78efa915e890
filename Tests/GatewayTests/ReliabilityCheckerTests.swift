import ReliabilityChecker
import Testing
import WazuhSimulator
import WireContract

/// The reliability checker must catch what it exists to catch: a missing, a duplicated and a
/// reordered event, an invented one, a wrong final state, and a committed transition left out.
@Suite struct ReliabilityCheckerTests {
    /// Agent 1 goes Active → Disconnected → Pending → Active over three commits; agent 2 stays Active.
    static let truth: [CommittedTransition] = [
        .init(
            kind: .initial, agentID: 1, previous: "Unknown", current: "Active", dateAdd: 100, databaseTime: 100,
            commit: 1, committedAtMilliseconds: 0),
        .init(
            kind: .initial, agentID: 2, previous: "Unknown", current: "Active", dateAdd: 100, databaseTime: 100,
            commit: 1, committedAtMilliseconds: 0),
        .init(
            kind: .statusChange, agentID: 1, previous: "Active", current: "Disconnected", dateAdd: 100,
            databaseTime: 200, commit: 2, committedAtMilliseconds: 1),
        .init(
            kind: .statusChange, agentID: 1, previous: "Disconnected", current: "Pending", dateAdd: 100,
            databaseTime: 300, commit: 3, committedAtMilliseconds: 2),
        .init(
            kind: .statusChange, agentID: 1, previous: "Pending", current: "Active", dateAdd: 100, databaseTime: 400,
            commit: 4, committedAtMilliseconds: 3),
    ]
    static let final = [1: "Active", 2: "Active"]

    static func event(_ previous: String, _ current: String, time: Int64) -> AgentStatusEvent {
        AgentStatusEvent(
            eventType: "status_change",
            eventID: EventID.make(
                agentID: 1, kind: "status_change", previous: previous, current: current, dateAdd: 100,
                transitionTime: time),
            agentID: "001", agentName: "web-1", previousStatus: previous, currentStatus: current, reason: nil,
            ipAddress: "10.0.0.1", lastKeepalive: nil, managerNode: "m", nodeName: "node01",
            timestamp: "2026-12-04T00:00:00.000Z")
    }

    /// The correct stream: each event on `.status`, plus `.disconnected` / `.connected` where due.
    static var goodStream: [StreamRecord] {
        let events = [
            event("Active", "Disconnected", time: 200), event("Disconnected", "Pending", time: 300),
            event("Pending", "Active", time: 400),
        ]
        var records: [StreamRecord] = []
        for event in events {
            records.append(record(event, channel: "status", sequence: UInt64(records.count + 1)))
            if event.currentStatus == "Disconnected" || event.currentStatus == "Active" {
                let channel = event.currentStatus == "Active" ? "connected" : "disconnected"
                records.append(record(event, channel: channel, sequence: UInt64(records.count + 1)))
            }
        }
        return records
    }

    static func record(_ event: AgentStatusEvent, channel: String, sequence: UInt64) -> StreamRecord {
        StreamRecord(
            sequence: sequence, subject: "wazuh.agent.001.\(channel)",
            messageID: channel == "status" ? event.eventID : event.eventID + ":" + channel,
            content: .event(event, channel: channel))
    }

    static func check(_ records: [StreamRecord], strict: Bool = true) -> StreamCheckReport {
        StreamChecker(requireEveryTransition: strict).check(records: records, groundTruth: truth, finalStatuses: final)
    }

    @Test func passesTheCorrectStream() {
        let report = Self.check(Self.goodStream)
        #expect(report.passed, "\(report)")
        #expect(report.committedTransitions == 3 && report.deliveredTransitions == 3)
        #expect(report.statusEvents == 3 && report.messages == 5)
    }

    @Test func failsOnAMissingEvent() {
        let records = Self.goodStream.filter { !$0.subject.hasSuffix(".status") || $0.sequence != 3 }
        let report = Self.check(records)
        #expect(!report.passed)
        #expect(report.lostTransitions == 1)
        #expect(
            report.violations.contains {
                $0.contains("starts from Pending but the previous event ended at Disconnected")
            })
    }

    @Test func failsOnADuplicatedEvent() {
        var records = Self.goodStream
        var copy = records[0]
        copy.sequence = 99
        records.insert(copy, at: 2)
        let report = Self.check(records)
        #expect(!report.passed)
        #expect(report.duplicates == 2)  // the message id and the transition
        #expect(report.violations.contains { $0.contains("stored twice") })
    }

    @Test func failsOnReorderedEvents() {
        var records = Self.goodStream
        let pending = records.remove(at: 2)  // Disconnected → Pending, moved after Pending → Active
        records.append(pending)
        let report = Self.check(records)
        #expect(!report.passed)
        #expect(report.violations.contains { $0.contains("agent 1") })
    }

    @Test func failsOnAnInventedEventAndAWrongFinalState() {
        var records = Self.goodStream
        records.append(
            Self.record(Self.event("Active", "NeverConnected", time: 500), channel: "status", sequence: 50))
        let report = Self.check(records)
        #expect(report.inventedEvents == 1)
        #expect(report.violations.contains { $0.contains("was never committed") })
        #expect(report.violations.contains { $0.contains("global.db says Active") })
    }

    @Test func aCoalescedTransitionFailsOnlyWhenEveryTransitionIsRequired() {
        // The gateway read Disconnected and then only the final Active (Pending was overtaken).
        let records = [
            Self.record(Self.event("Active", "Disconnected", time: 200), channel: "status", sequence: 1),
            Self.record(Self.event("Disconnected", "Active", time: 400), channel: "status", sequence: 2),
        ]
        let strict = Self.check(records)
        #expect(!strict.passed && strict.coalescedTransitions == 1)
        let lenient = Self.check(records, strict: false)
        #expect(lenient.passed, "\(lenient)")
        #expect(lenient.coalescedTransitions == 1 && lenient.lostTransitions == 0)
    }

    @Test func failsOnAnUnverifiedMessageAndAnOrphanSecondary() {
        var records = Self.goodStream
        records.append(
            StreamRecord(sequence: 60, subject: "wazuh.agent.001.status", messageID: "x", content: .unreadable("bad")))
        records.append(Self.record(Self.event("Active", "Pending", time: 9), channel: "connected", sequence: 61))
        let report = Self.check(records)
        #expect(report.violations.contains { $0.contains("does not verify") })
        #expect(report.violations.contains { $0.contains("has no event on .status") })
    }

    @Test func aStreamThatStopsEarlyLosesTheRest() {
        let records = Array(Self.goodStream.prefix(2))
        let report = Self.check(records)
        #expect(report.lostTransitions == 2)
        #expect(report.violations.contains { $0.contains("the stream stops at Disconnected") })
    }
}
