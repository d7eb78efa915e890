import Foundation
import Testing

@testable import Gateway
@testable import GatewayCommands

/// `demo --managers 2`: the configuration it writes and its per-manager summary.
struct DemoManagersTests {
    @Test func theSecondManagerTurnsTheWazuhSectionIntoAManagersList() throws {
        let manager = DemoAPIManager(root: "/srv/demo")
        let text = manager.managersSection(
            replacingWazuhSectionOf: DemoConfigurationFile.rendered(root: "/srv/demo", natsPort: 4333, httpPort: 9999),
            apiPort: 55123)
        let configuration = try GatewayConfiguration.load(yaml: text, environment: [:])
        #expect(configuration.managers.map(\.managerNode) == ["demo-manager", DemoAPIManager.node])
        #expect(configuration.managers[0].dbPath == "/srv/demo/ossec/queue/db/global.db")
        #expect(configuration.managers[0].source == .auto)
        let api = configuration.managers[1]
        #expect(api.source == .api)
        #expect(api.api.url == "https://localhost:55123")
        #expect(api.api.passwordFile == "/srv/demo/manager-2/api.password")
        #expect(api.api.caFile == "/srv/demo/manager-2/api-ca.pem")
        #expect(configuration.nats.url == "nats://127.0.0.1:4333")
    }

    @Test func theSummaryCountsEventsByTheirManagerScope() {
        let counts = DemoManagerSummary.eventsByManager(
            ["evt_001_1_a@demo-manager", "evt_002_1_b@demo-manager-2", "evt_003_1_c@demo-manager-2", "evt_004_1_d"],
            unscopedNode: "demo-manager")
        #expect(counts == ["demo-manager": 2, "demo-manager-2": 2])
        #expect(DemoManagerSummary.line(counts) == "demo: events by manager: demo-manager 2, demo-manager-2 2")
    }
}
