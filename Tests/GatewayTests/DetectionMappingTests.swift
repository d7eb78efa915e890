import Testing
import WazuhSource

@testable import Gateway

struct DetectionMappingTests {
    func change(
        kind: ChangeKind = .statusChange, id: Int = 1, previous: ConnectionStatus = .active,
        current: ConnectionStatus = .disconnected, reason: StatusReason? = .keepaliveTimeout,
        lastKeepalive: Int64? = 1_716_897_300
    ) -> AgentChange {
        AgentChange(
            kind: kind, agentID: id, agentName: "web-01", ipAddress: "10.0.0.5", previousStatus: previous,
            currentStatus: current, reason: reason, statusCode: reason == nil ? 0 : 4, lastKeepalive: lastKeepalive,
            nodeName: "node01", dateAdd: 1_700_000_000, transitionTime: 1_716_897_900)
    }

    @Test func formatsEpochSecondsAsRFC3339UTC() {
        #expect(RFC3339.format(epochSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(epochSeconds: 1_716_897_300) == "2024-05-28T11:55:00Z")
        #expect(RFC3339.format(epochSeconds: 951_782_400) == "2000-02-29T00:00:00Z")
        #expect(RFC3339.format(epochSeconds: 253_402_300_799) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.format(epochSeconds: -1) == "1969-12-31T23:59:59Z")
    }

    @Test func formatsEpochMillisecondsWithThreeDigits() {
        #expect(RFC3339.format(epochMilliseconds: 1_716_897_300_007) == "2024-05-28T11:55:00.007Z")
        #expect(RFC3339.format(epochMilliseconds: 0) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.format(epochMilliseconds: -1) == "1969-12-31T23:59:59.999Z")
    }

    @Test func padsAgentIDsToThreeDigits() {
        #expect(AgentEventMapper.wireAgentID(1) == "001")
        #expect(AgentEventMapper.wireAgentID(42) == "042")
        #expect(AgentEventMapper.wireAgentID(999) == "999")
        #expect(AgentEventMapper.wireAgentID(1234) == "1234")
    }

    @Test func mapsEveryFieldOfAStatusChange() {
        let mapper = AgentEventMapper(managerNode: "wazuh-manager-01")
        let event = mapper.event(for: change(), eventID: "evt_001_x", detectedAtMilliseconds: 1_716_897_901_250)
        #expect(event.eventType == "status_change")
        #expect(event.eventID == "evt_001_x")
        #expect(event.agentID == "001")
        #expect(event.agentName == "web-01")
        #expect(event.previousStatus == "Active")
        #expect(event.currentStatus == "Disconnected")
        #expect(event.reason == "keepalive_timeout")
        #expect(event.ipAddress == "10.0.0.5")
        #expect(event.lastKeepalive == "2024-05-28T11:55:00Z")
        #expect(event.managerNode == "wazuh-manager-01")
        #expect(event.nodeName == "node01")
        #expect(event.timestamp == "2024-05-28T12:05:01.250Z")
        #expect(event.signature == nil)
    }

    @Test func absentValuesStayNull() {
        let mapper = AgentEventMapper(managerNode: "m")
        let event = mapper.event(
            for: change(
                kind: .registered, previous: .unknown, current: .neverConnected, reason: nil, lastKeepalive: nil),
            eventID: "e", detectedAtMilliseconds: 0)
        #expect(event.eventType == "registered")
        #expect(event.previousStatus == "Unknown")
        #expect(event.reason == nil)
        #expect(event.lastKeepalive == nil)
    }

    @Test func mappingIsDeterministic() {
        let mapper = AgentEventMapper(managerNode: "m")
        #expect(
            mapper.event(for: change(), eventID: "e", detectedAtMilliseconds: 5)
                == mapper.event(for: change(), eventID: "e", detectedAtMilliseconds: 5))
    }

    @Test func secondarySubjectsFollowTheTransition() {
        #expect(
            AgentEventMapper.secondarySubjects(for: change(previous: .active, current: .disconnected)) == [
                .disconnected
            ])
        #expect(AgentEventMapper.secondarySubjects(for: change(previous: .pending, current: .active)) == [.connected])
        #expect(AgentEventMapper.secondarySubjects(for: change(previous: .disconnected, current: .pending)) == [])
        #expect(
            AgentEventMapper.secondarySubjects(
                for: change(kind: .registered, previous: .unknown, current: .neverConnected))
                == [.registered])
        #expect(
            AgentEventMapper.secondarySubjects(for: change(kind: .registered, previous: .unknown, current: .active))
                == [.registered, .connected])
        #expect(
            AgentEventMapper.secondarySubjects(for: change(kind: .removed, previous: .active, current: .unknown)) == [
                .removed
            ])
    }
}
