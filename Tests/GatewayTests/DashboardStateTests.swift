import Foundation
import Synchronization
import Testing
import WazuhSource

@testable import Gateway

/// A wall clock the test moves by hand.
final class ManualDate: Sendable {
    private let value: Mutex<Date>

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        self.value = Mutex(start)
    }

    var now: Date { self.value.withLock { $0 } }

    func advance(seconds: Double) {
        self.value.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

func dashboardChange(
    id: Int, name: String = "web-01", from: ConnectionStatus = .active, to: ConnectionStatus = .disconnected,
    node: String? = "node01"
) -> AgentChange {
    AgentChange(
        kind: .statusChange, agentID: id, agentName: name, ipAddress: "10.0.0.\(id)", previousStatus: from,
        currentStatus: to, reason: to == .disconnected ? .keepaliveTimeout : nil, statusCode: 4, lastKeepalive: nil,
        nodeName: node, dateAdd: 1, transitionTime: 2)
}

struct DashboardStateTests {
    @Test func keepsTheNewestEventsFirstAndBounded() {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1", eventCapacity: 3)
        state.recordTransitions((1...5).map { dashboardChange(id: $0) })
        let snapshot = state.snapshot()
        #expect(snapshot.events.map(\.agentID) == ["005", "004", "003"])
        #expect(snapshot.events[0].reason == "keepalive_timeout")
        #expect(snapshot.events[0].previousStatus == "Active")
        #expect(snapshot.events[0].currentStatus == "Disconnected")
    }

    @Test func countsTransitionsPerMinuteAndForgetsOldMinutes() {
        let clock = ManualDate()
        let state = DashboardState(managerNode: "m", gatewayVersion: "1", minutes: 3, now: { clock.now })
        state.recordTransitions([dashboardChange(id: 1), dashboardChange(id: 2)])
        clock.advance(seconds: 1)
        state.recordTransitions([dashboardChange(id: 3)])
        clock.advance(seconds: 60)
        state.recordTransitions([dashboardChange(id: 4)])
        #expect(state.snapshot().transitionsPerMinute.map(\.transitions) == [3, 1])
        clock.advance(seconds: 180)
        #expect(state.snapshot().transitionsPerMinute.isEmpty)
    }

    @Test func deliveryRateAndLatencyQuantilesCoverTheRecentWindow() {
        let clock = ManualDate()
        let state = DashboardState(managerNode: "m", gatewayVersion: "1", rateWindowSeconds: 10, now: { clock.now })
        state.recordDelivered(count: 50, ackLatencies: (1...100).map { .milliseconds($0) })
        clock.advance(seconds: 1)
        state.recordDelivered(count: 50, ackLatencies: [])
        var snapshot = state.snapshot()
        #expect(snapshot.delivery.deliveredTotal == 100)
        #expect(snapshot.delivery.ratePerSecond == 10)
        #expect(snapshot.delivery.ackLatencyP50Milliseconds == 51)
        #expect(snapshot.delivery.ackLatencyP99Milliseconds == 99)
        #expect(snapshot.delivery.ackLatencyMaxMilliseconds == 100)
        clock.advance(seconds: 30)
        snapshot = state.snapshot()
        #expect(snapshot.delivery.ratePerSecond == 0)
        #expect(snapshot.delivery.deliveredTotal == 100)
    }

    @Test func fleetCountsPerClusterNode() {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        func record(_ id: Int, _ status: ConnectionStatus, _ node: String?) -> AgentRecord {
            AgentRecord(
                id: id, name: "a\(id)", ip: nil, status: status, lastKeepalive: nil, dateAdd: 1, disconnectionTime: nil,
                statusCode: nil, nodeName: node)
        }
        state.recordFleet([
            record(1, .active, "node02"), record(2, .disconnected, "node01"), record(3, .active, "node01"),
            record(4, .neverConnected, nil), record(5, .pending, "node02"),
        ])
        let snapshot = state.snapshot()
        #expect(snapshot.fleet.total == 5)
        #expect(snapshot.fleet.active == 2)
        #expect(snapshot.fleet.disconnected == 1)
        #expect(snapshot.fleet.pending == 1)
        #expect(snapshot.fleet.neverConnected == 1)
        #expect(snapshot.nodes.map(\.node) == ["-", "node01", "node02"])
        #expect(snapshot.nodes[1].counts.total == 2)
        #expect(snapshot.nodes[1].counts.active == 1)
    }

    @Test func everyChangeBumpsTheVersionAndWakesSubscribers() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        let updates = state.updates()
        #expect(state.subscriberCount == 1)
        let before = state.snapshot().version
        state.recordBreaker("open")
        state.recordOutbox(depth: 7, oldestPendingAgeSeconds: 12)
        var iterator = updates.makeAsyncIterator()
        // Two changes coalesce into one pending wake-up.
        #expect(await iterator.next() != nil)
        let snapshot = state.snapshot()
        #expect(snapshot.version == before + 2)
        #expect(snapshot.delivery.breaker == "open")
        #expect(snapshot.outbox.depth == 7)
        #expect(snapshot.outbox.oldestPendingAgeSeconds == 12)
        state.close()
        #expect(await iterator.next() == nil)
        #expect(state.subscriberCount == 0)
        // A subscriber arriving after close ends at once.
        var late = state.updates().makeAsyncIterator()
        #expect(await late.next() == nil)
    }

    @Test func aSubscriberThatGoesAwayIsForgotten() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        let task = Task {
            for await _ in state.updates() {}
        }
        try await eventually("the subscription") { state.subscriberCount == 1 }
        task.cancel()
        await task.value
        try await eventually("the subscription to end") { state.subscriberCount == 0 }
    }

    @Test func natsAndSourceStateAreKeptAcrossDisconnects() {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        state.recordNATS(connected: true, server: "127.0.0.1:4222", serverName: "n1", serverVersion: "2.9.10")
        state.recordNATS(connected: false)
        state.recordNATS(connected: true, reconnected: true)
        var health = SourceHealth()
        health.lastSuccessfulRead = Date(timeIntervalSince1970: 1_800_000_000)
        health.successfulReads = 3
        state.recordSource(health)
        let snapshot = state.snapshot()
        #expect(snapshot.nats.connected)
        #expect(snapshot.nats.server == "127.0.0.1:4222")
        #expect(snapshot.nats.serverVersion == "2.9.10")
        #expect(snapshot.nats.reconnects == 1)
        #expect(snapshot.source.healthy)
        #expect(snapshot.source.lastSuccessfulRead == 1_800_000_000_000)
        #expect(snapshot.source.successfulReads == 3)
    }

    @Test func hostileNamesSurviveTheJSONUnchanged() throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        let hostile = "<img src=x onerror=alert(1)></script>\"\n\u{2028}"
        state.recordTransitions([dashboardChange(id: 9, name: hostile, node: "</script>")])
        let json = state.snapshot().json()
        let text = String(decoding: json, as: UTF8.self)
        #expect(!text.contains("\n"))
        let decoded = try JSONDecoder().decode(DashboardSnapshot.self, from: json)
        #expect(decoded.events.first?.agentName == hostile)
        #expect(decoded.events.first?.node == "</script>")
    }
}
