import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import WireContract

/// The HTTP endpoints, as a swift-service-lifecycle `Service`:
/// - `GET /metrics`: Prometheus text exposition of `registry`;
/// - `GET /healthz`: `200 ok` while the process runs;
/// - `GET /readyz`: `200 {"ready":true,"problems":[]}` when the probe reports no problem, otherwise
///   `503 {"ready":false,"problems":[…]}`; once the source has been read, also `"agent_status_from":"file"` or
///   `"agent_status_from":"wazuh-db"`;
/// - the operator dashboard (`/`, see `DashboardRoutes`) when a `DashboardState` is handed in and
///   `dashboardAccess` serves it (loopback, or credentials configured).
///
/// Binds `host:port` (loopback by default; port 0 picks a free port, reported to `onBound`).
/// Graceful shutdown stops accepting connections and lets `run()` return.
public struct MonitoringServer: Service {
    private let application: Application<RouterResponder<BasicRequestContext>>
    private let dashboard: DashboardState?

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, readiness: any ReadinessProbe,
        dashboard: DashboardState? = nil, dashboardAccess: DashboardAccess? = nil,
        logger: Logger, onBound: (@Sendable (Int) async -> Void)? = nil
    ) {
        let router = Router()
        self.dashboard = dashboard
        if let dashboard {
            let access = dashboardAccess ?? DashboardAccess(address: host, basic: nil, token: nil)
            DashboardRoutes.register(on: router, state: dashboard, access: access)
        }
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
        router.get("/healthz") { _, _ -> Response in
            Self.textResponse(.ok, "ok\n")
        }
        router.get("/readyz") { _, _ -> Response in
            let report = await readiness.readiness()
            var body = "{\"ready\":\(report.isReady),\"problems\":["
            body += report.problems.map(CanonicalJSON.quoted).joined(separator: ",")
            body += "]"
            // Not named "source": a problem line starts with that word, and clients look for it.
            if let source = report.source { body += ",\"agent_status_from\":" + CanonicalJSON.quoted(source) }
            body += "}\n"
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: report.isReady ? .ok : .serviceUnavailable, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
        self.application = Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port), serverName: "wazuh-nats-gateway"),
            onServerRunning: { channel in
                if let onBound, let bound = channel.localAddress?.port {
                    await onBound(bound)
                }
            },
            logger: logger
        )
    }

    /// The server from the configuration's `monitoring` section.
    public init(
        monitoring: GatewayConfiguration.Monitoring, registry: PrometheusCollectorRegistry,
        readiness: any ReadinessProbe, dashboard: DashboardState? = nil, dashboardAccess: DashboardAccess? = nil,
        logger: Logger, onBound: (@Sendable (Int) async -> Void)? = nil
    ) {
        self.init(
            host: monitoring.metricsAddress, port: monitoring.metricsPort, registry: registry, readiness: readiness,
            dashboard: dashboard, dashboardAccess: dashboardAccess, logger: logger, onBound: onBound)
    }

    public func run() async throws {
        // Open event streams would hold the server's graceful shutdown: end them first.
        try await withGracefulShutdownHandler {
            try await self.application.run()
        } onGracefulShutdown: { [dashboard = self.dashboard] in
            dashboard?.close()
        }
    }

    private static func textResponse(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
