import Foundation
import Logging
import NATSClient
import NATSTestSupport
import Prometheus
import ServiceLifecycle
import Testing

@testable import Gateway

/// `NATSLink` against a real nats-server: it never gives up, and reports every state to readiness and metrics.
struct DaemonNATSLinkTests {
    struct Fixture {
        let server: NATSServerProcess
        let registry = PrometheusCollectorRegistry()
        let readiness = GatewayReadiness(maximumSourceAge: .seconds(60))
        let link: NATSLink
        let logs = LogCapture()

        init(server: NATSServerProcess) throws {
            self.server = server
            var options = try NATSConnectionOptions(url: server.url)
            options.connectTimeout = .seconds(1)
            options.reconnect = NATSReconnectPolicy(
                maxAttempts: 3, baseDelay: .milliseconds(50), maxDelay: .milliseconds(100))
            self.link = NATSLink(
                options: options, retry: NATSLink.retryPolicy(reconnectDelay: .milliseconds(50)),
                readiness: self.readiness,
                metrics: GatewayMetrics(factory: GatewayMetrics.makePrometheusFactory(registry: self.registry)),
                logger: self.logs.logger())
        }

        var natsProblem: Bool {
            get async { await self.readiness.readiness().problems.contains("nats: disconnected") }
        }

        func metricsText() -> String {
            String(decoding: self.registry.emitToBuffer(), as: UTF8.self)
        }
    }

    /// Runs `link` in a service group until `body` returns, then shuts it down gracefully.
    func withRunningLink(_ fixture: Fixture, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: [fixture.link], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let running = Task { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            throw error
        }
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func connectsAndReportsConnected() async throws {
        try await withNATSServer { server in
            let fixture = try Fixture(server: server)
            try await withRunningLink(fixture) {
                try await eventually("connected") { fixture.link.connection?.isConnected == true }
                try await eventually("ready for nats") { await !fixture.natsProblem }
                #expect(fixture.metricsText().contains("wazuh_nats_gateway_nats_connected 1"))
            }
            #expect(fixture.link.connection == nil)
            #expect(await fixture.natsProblem)
            await server.stop()
        }
    }

    @Test func keepsRetryingWhenNATSIsDownAtStart() async throws {
        let server = try NATSServerProcess()
        try await withNATSServers([server], start: false) { _ in
            let fixture = try Fixture(server: server)
            try await withRunningLink(fixture) {
                try await eventually("several failed connects") { fixture.link.failedConnects >= 3 }
                #expect(fixture.link.connection == nil)
                #expect(await fixture.natsProblem)
                #expect(fixture.logs.contains("cannot connect to NATS"))
                try await server.start()
                try await eventually("connected after the server started", timeout: .seconds(15)) {
                    fixture.link.connection?.isConnected == true
                }
                try await eventually("ready for nats") { await !fixture.natsProblem }
            }
            await server.stop()
        }
    }

    @Test func reportsDisconnectAndReconnect() async throws {
        try await withNATSServer { server in
            let fixture = try Fixture(server: server)
            try await withRunningLink(fixture) {
                try await eventually("connected") { fixture.link.connection?.isConnected == true }
                await server.stop()
                try await eventually("not ready while the server is down") { await fixture.natsProblem }
                #expect(fixture.metricsText().contains("wazuh_nats_gateway_nats_connected 0"))
                try await server.restart()
                try await eventually("ready again", timeout: .seconds(15)) { await !fixture.natsProblem }
                #expect(fixture.link.connection?.isConnected == true)
            }
            await server.stop()
        }
    }

    @Test func connectsAnewAfterTheClientGaveUp() async throws {
        try await withNATSServer { server in
            let fixture = try Fixture(server: server)
            try await withRunningLink(fixture) {
                try await eventually("connected") { fixture.link.connection?.isConnected == true }
                let firstGeneration = fixture.link.generation
                await server.stop()
                // The client's 3 reconnect attempts (≤ 100 ms apart) are used up well within this wait.
                try await eventually("the client gave up", timeout: .seconds(10)) { fixture.link.connection == nil }
                try await server.restart()
                try await eventually("a new connection", timeout: .seconds(15)) {
                    fixture.link.connection?.isConnected == true
                }
                #expect(fixture.link.generation > firstGeneration)
                #expect(fixture.logs.contains("gave up reconnecting"))
            }
            await server.stop()
        }
    }
}
