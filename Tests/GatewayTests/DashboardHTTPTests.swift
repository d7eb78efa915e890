import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Testing

@testable import Gateway

struct DashboardHTTPTests {
    static let probe = ClosureReadinessProbe { ReadinessReport(problems: []) }

    @Test(.timeLimit(.minutes(1)))
    func thePageAndItsAssetsAreServedUnderAStrictPolicy() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: Self.probe, dashboard: state)
        { port in
            let page = try await LoopbackHTTP.get(port: port, path: "/")
            #expect(page.status == 200)
            #expect(page.headers.lowercased().contains("content-type: text/html"))
            #expect(page.headers.contains("Content-Security-Policy: " + DashboardRoutes.contentSecurityPolicy))
            #expect(DashboardRoutes.contentSecurityPolicy.contains("script-src 'self';"))
            #expect(!DashboardRoutes.contentSecurityPolicy.contains("unsafe"))
            #expect(page.body.contains("<script src=\"/dashboard.js\" defer></script>"))
            // No inline script and no inline handlers: every <script> has a src and is empty.
            #expect(page.body.components(separatedBy: "<script").count == 2)
            #expect(
                page.body.range(of: #"\son[a-z]+\s*="#, options: [.regularExpression, .caseInsensitive]) == nil,
                "no inline event handler attributes")
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "nothing from elsewhere")
            let script = try await LoopbackHTTP.get(port: port, path: "/dashboard.js")
            #expect(script.status == 200)
            #expect(script.headers.lowercased().contains("content-type: text/javascript"))
            #expect(script.body.contains("new EventSource(\"/dashboard/events\")"))
            #expect(!script.body.contains("innerHTML") && !script.body.contains("insertAdjacentHTML"))
            #expect(!script.body.contains("document.write") && !script.body.contains("eval("))
            let css = try await LoopbackHTTP.get(port: port, path: "/dashboard.css")
            #expect(css.status == 200)
            #expect(css.headers.lowercased().contains("content-type: text/css"))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func theStateEndpointReflectsWhatWasRecorded() async throws {
        let state = DashboardState(managerNode: "manager-a", gatewayVersion: "9.9")
        state.recordTransitions([dashboardChange(id: 12, name: "<b>bold</b>")])
        state.recordOutbox(depth: 3, oldestPendingAgeSeconds: 4)
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: Self.probe, dashboard: state)
        { port in
            let reply = try await LoopbackHTTP.get(port: port, path: "/dashboard/state")
            #expect(reply.status == 200)
            let snapshot = try JSONDecoder().decode(DashboardSnapshot.self, from: Data(reply.body.utf8))
            #expect(snapshot.managerNode == "manager-a")
            #expect(snapshot.events.first?.agentID == "012")
            #expect(snapshot.events.first?.agentName == "<b>bold</b>")
            #expect(snapshot.outbox.depth == 3)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func theEventStreamSendsASnapshotAtOnceAndThenEachChange() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: Self.probe, dashboard: state)
        { port in
            let first = try await LoopbackHTTP.read(port: port, path: "/dashboard/events") {
                $0.contains("event: snapshot") && $0.contains("}\n\n")
            }
            #expect(first.status == 200)
            #expect(first.headers.lowercased().contains("content-type: text/event-stream"))
            // A change made while a client listens arrives as a new event.
            let reading = Task {
                try await LoopbackHTTP.read(port: port, path: "/dashboard/events") { $0.contains("live-agent-7") }
            }
            try await eventually("the stream to subscribe") { state.subscriberCount >= 1 }
            state.recordTransitions([dashboardChange(id: 7, name: "live-agent-7")])
            let live = try await reading.value
            #expect(live.body.contains("\"agentName\":\"live-agent-7\""))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func credentialsAreRequiredWhenConfigured() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        let access = DashboardAccess(address: "127.0.0.1", basic: nil, token: Secret("letmein"))
        try await withMonitoringServer(
            registry: PrometheusCollectorRegistry(), readiness: Self.probe, dashboard: state, dashboardAccess: access
        ) { port in
            for path in ["/", "/dashboard.js", "/dashboard/state", "/dashboard/events"] {
                let refused = try await LoopbackHTTP.get(port: port, path: path)
                #expect(refused.status == 401, "\(path)")
                #expect(refused.headers.contains("WWW-Authenticate: Bearer"))
            }
            let wrong = try await LoopbackHTTP.get(
                port: port, path: "/", headers: ["Authorization": "Bearer letmeout"])
            #expect(wrong.status == 401)
            let allowed = try await LoopbackHTTP.get(
                port: port, path: "/", headers: ["Authorization": "Bearer letmein"])
            #expect(allowed.status == 200)
            // /metrics and the probes keep their own (unauthenticated) contract.
            let health = try await LoopbackHTTP.get(port: port, path: "/healthz")
            #expect(health.status == 200)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aDisabledDashboardIsNotServed() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        let access = DashboardAccess(policy: .disabled)
        try await withMonitoringServer(
            registry: PrometheusCollectorRegistry(), readiness: Self.probe, dashboard: state, dashboardAccess: access
        ) { port in
            let page = try await LoopbackHTTP.get(port: port, path: "/")
            #expect(page.status == 404)
            let state = try await LoopbackHTTP.get(port: port, path: "/dashboard/state")
            #expect(state.status == 404)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func gracefulShutdownEndsOpenEventStreams() async throws {
        let state = DashboardState(managerNode: "m", gatewayVersion: "1")
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let server = MonitoringServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), readiness: Self.probe,
            dashboard: state, logger: logger, onBound: { continuation.yield($0) })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(services: [.init(service: server)], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            // The stream ends (the read returns at end of response) once the server shuts down.
            let reading = Task {
                try await LoopbackHTTP.read(port: port, path: "/dashboard/events") { _ in false }
            }
            try await eventually("the stream to subscribe") { state.subscriberCount == 1 }
            await group.triggerGracefulShutdown()
            let reply = try await reading.value
            #expect(reply.body.contains("event: snapshot"))
            try await tasks.next()
        }
    }
}
