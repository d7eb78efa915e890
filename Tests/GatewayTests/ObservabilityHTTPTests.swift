import Foundation
import Logging
import Prometheus
import ServiceLifecycle
import Testing

@testable import Gateway

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 GET over a blocking loopback socket with a receive timeout.
enum LoopbackHTTP {
    struct Reply {
        var status: Int
        var headers: String
        var body: String
    }

    enum Failure: Error {
        case socket(String)
    }

    /// Runs the blocking exchange on its own thread: blocking a cooperative-pool thread could
    /// starve the server's own request handling on a 2-core machine.
    static func get(port: Int, path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try self.blockingGet(port: port, path: path, headers: headers) })
            }
            thread.start()
        }
    }

    /// Reads a response that does not end (an event stream) until what arrived so far satisfies
    /// `until`, then closes the connection. Fails after the socket's 5 s receive timeout.
    static func read(
        port: Int, path: String, headers: [String: String] = [:], until: @escaping @Sendable (String) -> Bool
    ) async throws -> Reply {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(
                    with: Result { try self.blockingGet(port: port, path: path, headers: headers, until: until) })
            }
            thread.start()
        }
    }

    private static func blockingGet(
        port: Int, path: String, headers: [String: String] = [:], until: (@Sendable (String) -> Bool)? = nil
    ) throws -> Reply {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.socket("socket") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure.socket("connect") }
        let extra = headers.map { "\($0.key): \($0.value)\r\n" }.joined()
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(extra)Connection: close\r\n\r\n".utf8)
        guard send(descriptor, request, request.count, 0) == request.count else { throw Failure.socket("send") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 { throw Failure.socket("recv timed out or failed") }
            if count == 0 { break }
            received += buffer[0..<count]
            if let until, until(String(decoding: received, as: UTF8.self)) { break }
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw Failure.socket("no header end") }
        let head = String(text[..<split.lowerBound])
        let statusText = head.split(separator: " ").dropFirst().first ?? ""
        var body = String(text[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") {
            body = Self.dechunk(body)
        }
        return Reply(status: Int(statusText) ?? 0, headers: head, body: body)
    }

    private static func dechunk(_ text: String) -> String {
        var rest = Substring(text)
        var body = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            body += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return body
    }
}

/// Runs a `MonitoringServer` on a free loopback port for the body's duration.
func withMonitoringServer(
    registry: PrometheusCollectorRegistry, readiness: any ReadinessProbe, dashboard: DashboardState? = nil,
    dashboardAccess: DashboardAccess? = nil, _ body: @Sendable (Int) async throws -> Void
) async throws {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let server = MonitoringServer(
        host: "127.0.0.1", port: 0, registry: registry, readiness: readiness, dashboard: dashboard,
        dashboardAccess: dashboardAccess,
        logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        onBound: { continuation.yield($0) })
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { continuation.finish() }
            try await server.run()
        }
        group.addTask {
            // Unblocks the wait below if the server never reports its port.
            try await Task.sleep(for: .seconds(10))
            continuation.finish()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw LoopbackHTTP.Failure.socket("server did not report a port within 10s")
        }
        try await body(port)
        group.cancelAll()
    }
}

struct ObservabilityHTTPTests {
    @Test(.timeLimit(.minutes(1)))
    func healthzAnswersOK() async throws {
        let probe = ClosureReadinessProbe { ReadinessReport(problems: []) }
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: probe) { port in
            let reply = try await LoopbackHTTP.get(port: port, path: "/healthz")
            #expect(reply.status == 200)
            #expect(reply.body == "ok\n")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func readyzReflectsTheProbe() async throws {
        let clock = ManualClockValue()
        let readiness = GatewayReadiness(maximumSourceAge: .seconds(15), now: { clock.value })
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: readiness) { port in
            var reply = try await LoopbackHTTP.get(port: port, path: "/readyz")
            #expect(reply.status == 503)
            #expect(reply.headers.lowercased().contains("content-type: application/json"))
            #expect(
                reply.body
                    == "{\"ready\":false,\"problems\":[\"nats: disconnected\",\"source: no successful read yet\"]}\n")

            readiness.setNATSConnected(true)
            readiness.recordSourceReadSuccess()
            reply = try await LoopbackHTTP.get(port: port, path: "/readyz")
            #expect(reply.status == 200)
            #expect(reply.body == "{\"ready\":true,\"problems\":[]}\n")

            clock.value = .seconds(42)
            readiness.recordSourceReadFailure("unable to open database")
            reply = try await LoopbackHTTP.get(port: port, path: "/readyz")
            #expect(reply.status == 503)
            #expect(
                reply.body
                    == "{\"ready\":false,\"problems\":[\"source: last successful read 42s ago: unable to open database\"]}\n"
            )
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func metricsEndpointShowsIncrementedMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.makePrometheusFactory(registry: registry))
        metrics.eventDetected(type: "status_change", count: 3)
        metrics.messagesPublished.increment(by: 5)
        metrics.outboxDepth.record(17)
        metrics.setBreakerState(.open)
        metrics.publishAckLatency.recordMilliseconds(3)
        let probe = ClosureReadinessProbe { ReadinessReport(problems: []) }
        try await withMonitoringServer(registry: registry, readiness: probe) { port in
            let reply = try await LoopbackHTTP.get(port: port, path: "/metrics")
            #expect(reply.status == 200)
            #expect(reply.headers.lowercased().contains("content-type: text/plain; version=0.0.4"))
            #expect(reply.body.contains("wazuh_nats_gateway_events_detected_total{type=\"status_change\"} 3\n"))
            #expect(reply.body.contains("wazuh_nats_gateway_messages_published_total 5\n"))
            #expect(reply.body.contains("wazuh_nats_gateway_outbox_depth 17"))
            #expect(reply.body.contains("wazuh_nats_gateway_breaker_state 2"))
            #expect(reply.body.contains("wazuh_nats_gateway_publish_ack_latency_seconds_bucket{le=\"0.005\"} 1\n"))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func unknownPathIsNotFound() async throws {
        let probe = ClosureReadinessProbe { ReadinessReport(problems: []) }
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: probe) { port in
            let reply = try await LoopbackHTTP.get(port: port, path: "/nope")
            #expect(reply.status == 404)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func serverStopsOnGracefulShutdown() async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = MonitoringServer(
            host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(),
            readiness: ClosureReadinessProbe { ReadinessReport(problems: []) },
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            onBound: { continuation.yield($0) })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)],
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            #expect(try await LoopbackHTTP.get(port: port, path: "/healthz").status == 200)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

extension ObservabilityHTTPTests {
    @Test(.timeLimit(.minutes(1)))
    func portAlreadyInUseMakesRunThrow() async throws {
        let probe = ClosureReadinessProbe { ReadinessReport(problems: []) }
        try await withMonitoringServer(registry: PrometheusCollectorRegistry(), readiness: probe) { port in
            let second = MonitoringServer(
                host: "127.0.0.1", port: port, registry: PrometheusCollectorRegistry(), readiness: probe,
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            await #expect(throws: (any Error).self) {
                try await second.run()
            }
        }
    }
}

/// A settable monotonic time for `GatewayReadiness` tests.
final class ManualClockValue: @unchecked Sendable {
    // @unchecked: `stored` is only touched while holding `lock`.
    private let lock = NSLock()
    private var stored: Duration = .zero

    var value: Duration {
        get {
            self.lock.lock()
            defer { self.lock.unlock() }
            return self.stored
        }
        set {
            self.lock.lock()
            self.stored = newValue
            self.lock.unlock()
        }
    }
}
