import Foundation
import Testing

@testable import WireContract

struct SubjectsTests {
    @Test func agentIDsArePaddedToThreeDigits() throws {
        let subjects = try Subjects(prefix: "wazuh")
        #expect(subjects.status(agentID: 1) == "wazuh.agent.001.status")
        #expect(subjects.connected(agentID: 12) == "wazuh.agent.012.connected")
        #expect(subjects.disconnected(agentID: 123) == "wazuh.agent.123.disconnected")
        #expect(subjects.registered(agentID: 1234) == "wazuh.agent.1234.registered")
        #expect(subjects.removed(agentID: 0) == "wazuh.agent.000.removed")
        #expect(subjects.agentEvents == "wazuh.security.agent_events")
        #expect(subjects.all == "wazuh.>")
    }

    @Test func hostileNodeNamesCannotEscapeTheirToken() throws {
        let subjects = try Subjects(prefix: "corp.wazuh")
        #expect(subjects.heartbeat(node: "node01") == "corp.wazuh.manager.node01.heartbeat")
        #expect(subjects.heartbeat(node: "") == "corp.wazuh.manager._.heartbeat")
        #expect(subjects.heartbeat(node: "a.b") == "corp.wazuh.manager.a_b.heartbeat")
        #expect(subjects.heartbeat(node: "*") == "corp.wazuh.manager._.heartbeat")
        #expect(subjects.heartbeat(node: ">") == "corp.wazuh.manager._.heartbeat")
        #expect(subjects.heartbeat(node: "x y\r\nPUB evil 3") == "corp.wazuh.manager.x_y__PUB_evil_3.heartbeat")
        #expect(subjects.heartbeat(node: "nöde-1_A") == "corp.wazuh.manager.n_de-1_A.heartbeat")
        #expect(subjects.heartbeat(node: "😀") == "corp.wazuh.manager._.heartbeat")
        for hostile in ["a.b.c", "*", ">", " ", "\t", "..", "a\u{0}b"] {
            let token = Subjects.nodeToken(hostile)
            #expect(!token.isEmpty)
            #expect(token.utf8.allSatisfy(Subjects.isTokenByte))
        }
    }

    @Test func badPrefixesAreRefused() {
        for bad in ["", ".", "wazuh.", ".wazuh", "wa zuh", "wazuh.*", "wazuh.>", "a..b", "wäzuh", "a\nb", "a\tb"] {
            let error = #expect(throws: WireError.self) { try Subjects(prefix: bad) }
            #expect(error?.code == .invalidSubjectPrefix)
        }
        for good in ["wazuh", "corp.wazuh", "a-b_c.D9"] {
            #expect(throws: Never.self) { try Subjects(prefix: good) }
        }
    }

    @Test func classifyRecognisesContractSubjectsOnly() throws {
        let subjects = try Subjects(prefix: "wazuh")
        #expect(subjects.classify("wazuh.agent.001.status") == .agentEvent(agentToken: "001", channel: "status"))
        #expect(subjects.classify("wazuh.security.agent_events") == .batch)
        #expect(subjects.classify("wazuh.manager.n1.heartbeat") == .heartbeat(nodeToken: "n1"))
        #expect(subjects.classify("wazuh.agent.001.other") == nil)
        #expect(subjects.classify("other.agent.001.status") == nil)
        #expect(subjects.classify("wazuhx.agent.001.status") == nil)
    }
}

struct EventIDTests {
    let base = (
        agentID: 1, kind: "status_change", previous: "Active", current: "Disconnected",
        dateAdd: Int64(1_700_000_000), time: Int64(1_716_897_300)
    )

    func make(
        agentID: Int? = nil, kind: String? = nil, previous: String? = nil, current: String? = nil,
        dateAdd: Int64? = nil,
        time: Int64? = nil
    ) -> String {
        EventID.make(
            agentID: agentID ?? base.agentID, kind: kind ?? base.kind, previous: previous ?? base.previous,
            current: current ?? base.current, dateAdd: dateAdd ?? base.dateAdd, transitionTime: time ?? base.time)
    }

    @Test func sameInputsGiveSameIDWithSeedLook() {
        let id = self.make()
        #expect(id == self.make())
        #expect(id.hasPrefix("evt_001_1716897300_"))
        let hash = id.dropFirst("evt_001_1716897300_".count)
        #expect(hash.count == 16)
        #expect(hash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test func anyInputChangeGivesAnotherID() {
        let id = self.make()
        let variants = [
            self.make(agentID: 2), self.make(kind: "registered"), self.make(previous: "Pending"),
            self.make(current: "Active"), self.make(dateAdd: 1_700_000_001), self.make(time: 1_716_897_301),
            // Length prefixes keep field boundaries: moving a character across fields changes the id.
            self.make(previous: "ActiveD", current: "isconnected"),
        ]
        #expect(Set(variants + [id]).count == variants.count + 1)
    }

    /// Pins the documented format so that ids stay stable across releases (a change would break dedup).
    @Test func idFormatIsStable() {
        #expect(self.make() == EventIDTests.pinnedID)
    }

    static let pinnedID = "evt_001_1716897300_" + EventIDTests.pinnedHash
    static let pinnedHash = "38c0d487f48f8234"  // computed independently with Python's hashlib and struct

    @Test func batchIDDependsOnlyOnTimeAndTheSetOfEventIDs() {
        let ids = ["evt_b", "evt_a", "evt_c"]
        let first = BatchStatusUpdate.makeBatchID(time: 5, eventIDs: ids)
        #expect(first == BatchStatusUpdate.makeBatchID(time: 5, eventIDs: ids.reversed()))
        #expect(first.hasPrefix("batch_5_"))
        #expect(first != BatchStatusUpdate.makeBatchID(time: 6, eventIDs: ids))
        #expect(first != BatchStatusUpdate.makeBatchID(time: 5, eventIDs: ["evt_a", "evt_b"]))
        #expect(first != BatchStatusUpdate.makeBatchID(time: 5, eventIDs: ["evt_ab", "evt_c"]))
    }

    @Test func splitBatchesNumberTheirPartsAndKeepDistinctMessageIDs() {
        let events = (1...5).map { SampleEvents.event(agent: $0) }
        let summary = BatchSummary(
            fleet: FleetCounts(
                totalAgents: 5, activeAgents: 0, disconnectedAgents: 5, pendingAgents: 0, neverConnectedAgents: 0),
            changesDetected: 5)
        let parts = BatchStatusUpdate.split(
            batchID: "batch_1_x", managerNode: "n", timestamp: "t", events: events, summary: summary, maximumEvents: 2)
        #expect(parts.count == 3)
        #expect(parts.map(\.part) == [1, 2, 3])
        #expect(parts.allSatisfy { $0.parts == 3 && $0.batchID == "batch_1_x" })
        #expect(parts.map(\.messageID) == ["batch_1_x:1/3", "batch_1_x:2/3", "batch_1_x:3/3"])
        #expect(parts.flatMap(\.events) == events)
        let single = BatchStatusUpdate.split(
            batchID: "batch_1_x", managerNode: "n", timestamp: "t", events: events, summary: summary, maximumEvents: 5)
        #expect(single.count == 1)
        #expect(single[0].part == nil)
        #expect(single[0].jsonObject["part"] == nil)
        #expect(single[0].messageID == "batch_1_x")
    }
}

struct WireTimestampTests {
    @Test func formatsUTCSecondsAsRFC3339() {
        #expect(WireTimestamp.string(unixSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(WireTimestamp.string(unixSeconds: 1_716_897_600) == "2024-05-28T12:00:00Z")
        #expect(WireTimestamp.string(unixSeconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(WireTimestamp.string(unixSeconds: 4_102_444_799) == "2099-12-31T23:59:59Z")
        #expect(WireTimestamp.string(unixSeconds: -1) == "1969-12-31T23:59:59Z")
    }

    @Test func agreesWithFoundationOverManyDays() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var seconds: Int64 = 0
        while seconds < 4_200_000_000 {
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect(WireTimestamp.string(unixSeconds: seconds) == expected)
            seconds += 7_777_777
        }
    }
}
