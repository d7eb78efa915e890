import Foundation
import Testing
import WazuhSource

@testable import Gateway

/// The dashboard with several managers: each manager's counts and source health, fleets summed.
struct DashboardManagersTests {
    static func record(_ id: Int, _ status: ConnectionStatus, _ node: String?) -> AgentRecord {
        AgentRecord(
            id: id, name: "a\(id)", ip: nil, status: status, lastKeepalive: nil, dateAdd: 1, disconnectionTime: nil,
            statusCode: nil, nodeName: node)
    }

    @Test func eachManagerHasItsOwnCountsAndHealthAndTheFleetIsTheirSum() {
        let state = DashboardState(managerNode: "eu", managerNodes: ["eu", "us"], gatewayVersion: "1")
        state.recordFleet([Self.record(1, .active, "n1"), Self.record(2, .disconnected, "n1")], manager: "eu")
        state.recordFleet([Self.record(1, .active, "n1")], manager: "us")
        var failing = SourceHealth()
        failing.consecutiveFailures = 2
        state.recordSource(failing, manager: "us")
        state.recordTransitions([], manager: "us")
        let snapshot = state.snapshot()
        #expect(snapshot.managers.map(\.node) == ["eu", "us"])
        #expect(snapshot.managers[0].fleet.total == 2 && snapshot.managers[0].fleet.disconnected == 1)
        #expect(snapshot.managers[1].fleet.total == 1 && snapshot.managers[1].fleet.active == 1)
        #expect(snapshot.fleet.total == 3 && snapshot.fleet.active == 2)
        #expect(snapshot.nodes.map(\.node) == ["eu / n1", "us / n1"])
        #expect(!snapshot.managers[1].source.healthy)
        #expect(snapshot.managers[1].source.consecutiveFailures == 2)
        // The top-level source stays the first manager's.
        #expect(snapshot.source.consecutiveFailures == 0)
    }

    @Test func aSingleManagerKeepsItsPlainNodeNames() {
        let state = DashboardState(managerNode: "solo", gatewayVersion: "1")
        state.recordFleet([Self.record(1, .active, "n1")])
        let snapshot = state.snapshot()
        #expect(snapshot.managers.map(\.node) == ["solo"])
        #expect(snapshot.nodes.map(\.node) == ["n1"])
        #expect(snapshot.managers[0].fleet.total == 1)
    }
}
