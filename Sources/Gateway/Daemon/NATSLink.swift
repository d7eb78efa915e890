import Logging
import NATSClient
import ServiceLifecycle
import Synchronization
import Timekeeping

/// The daemon's NATS connection lifecycle, as a swift-service-lifecycle `Service`.
///
/// The gateway never exits because NATS is unavailable: `run()` connects, and when the first
/// connect fails (or the client gives up reconnecting and closes) it keeps trying in the background
/// with exponential backoff and full jitter, while the outbox keeps journaling. Every state change
/// is reported to readiness (`nats: disconnected`) and metrics (connected gauge, reconnect count).
///
/// On graceful shutdown it stops retrying and closes the connection; list it *before* the delivery
/// worker in the `ServiceGroup` so the worker has drained when the connection closes.
public final class NATSLink: Service, Sendable {
    /// Connects once; the daemon passes `NATSConnection.connect`, tests may pass anything.
    public typealias Connector = @Sendable (NATSConnectionOptions, Logger) async throws -> NATSConnection

    private struct State {
        var connection: NATSConnection?
        var generation: UInt64 = 0
        var failedConnects = 0
    }

    private let options: NATSConnectionOptions
    private let retry: NATSReconnectPolicy
    private let readiness: GatewayReadiness
    private let metrics: GatewayMetrics
    private let dashboard: DashboardState?
    private let connector: Connector
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - retry: backoff between connect attempts when no connection is up (`maxAttempts` is ignored:
    ///     the link retries until shutdown).
    public init(
        options: NATSConnectionOptions, retry: NATSReconnectPolicy, readiness: GatewayReadiness,
        metrics: GatewayMetrics, dashboard: DashboardState? = nil, logger: Logger,
        connector: @escaping Connector = { options, logger in
            try await NATSConnection.connect(options: options, logger: logger)
        }
    ) {
        self.options = options
        self.retry = retry
        self.readiness = readiness
        self.metrics = metrics
        self.dashboard = dashboard
        self.connector = connector
        self.logger = logger
    }

    /// The retry policy the daemon uses: `nats.reconnect_delay` doubling up to 30 s (at least the delay itself).
    public static func retryPolicy(reconnectDelay: Duration) -> NATSReconnectPolicy {
        let base = max(reconnectDelay, .milliseconds(50))
        return NATSReconnectPolicy(maxAttempts: nil, baseDelay: base, maxDelay: max(base, .seconds(30)))
    }

    /// The connection while one is established (it may be reconnecting), `nil` before the first
    /// connect succeeded and after the client gave up.
    public var connection: NATSConnection? {
        self.state.withLock { $0.connection }
    }

    /// Increases every time a new `NATSConnection` object replaces the previous one.
    public var generation: UInt64 {
        self.state.withLock { $0.generation }
    }

    /// Connect attempts that failed since the process started.
    public var failedConnects: Int {
        self.state.withLock { $0.failedConnects }
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.supervise()
            }
        } catch is CancellationError {
            // Graceful shutdown (or group cancellation): close below.
        }
        let connection = self.state.withLock { state in
            defer { state.connection = nil }
            return state.connection
        }
        if let connection {
            do {
                try await connection.drain(timeout: .seconds(2))
            } catch {
                self.logger.debug("NATS drain on shutdown did not finish cleanly", metadata: ["error": "\(error)"])
            }
            await connection.close()
        }
        self.report(connected: false)
        self.logger.info("NATS connection closed")
    }

    private func supervise() async throws {
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        while true {
            try Task.checkCancellation()
            let connection: NATSConnection
            do {
                connection = try await self.connector(self.options, self.logger)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                let delay = self.retry.delay(forAttempt: attempt, using: &random)
                self.state.withLock { $0.failedConnects += 1 }
                self.logger.warning(
                    "cannot connect to NATS; journaling continues, retrying",
                    metadata: [
                        "nats.servers": "\(self.options.servers.map(\.description).joined(separator: ","))",
                        "nats.attempt": "\(attempt + 1)",
                        "nats.retry_in_ms":
                            "\(delay.wholeMilliseconds)",
                        "error": "\(error)",
                    ])
                attempt += 1
                try await Task.sleep(for: delay)
                continue
            }
            attempt = 0
            let events = connection.stateChanges
            self.state.withLock { state in
                state.connection = connection
                state.generation += 1
            }
            self.report(connected: connection.isConnected, connection: connection)
            self.logger.info(
                "connected to NATS",
                metadata: ["nats.server_id": "\(connection.serverInfo?.serverID ?? "unknown")"])
            for await event in events {
                switch event {
                case .connected:
                    self.report(connected: true, connection: connection)
                case .reconnected:
                    self.metrics.natsReconnects.increment()
                    self.report(connected: true, connection: connection, reconnected: true)
                    self.logger.info("reconnected to NATS")
                case .disconnected(let error):
                    self.report(connected: false)
                    self.logger.warning(
                        "lost the NATS connection; the client reconnects", metadata: ["error": "\(error)"])
                case .closed:
                    break
                }
            }
            try Task.checkCancellation()
            // The client closed for good (it gave up reconnecting): start over with a new connection.
            self.state.withLock { $0.connection = nil }
            self.report(connected: false)
            await connection.close()
            self.logger.warning("the NATS client gave up reconnecting; connecting anew")
        }
    }

    private func report(connected: Bool, connection: NATSConnection? = nil, reconnected: Bool = false) {
        self.readiness.setNATSConnected(connected)
        self.metrics.setNATSConnected(connected)
        if let dashboard = self.dashboard {
            let info = connection?.serverInfo
            dashboard.recordNATS(
                connected: connected, server: connection?.connectedServer.map { "\($0.host):\($0.port)" },
                serverName: info?.serverName ?? info?.serverID, serverVersion: info?.version, reconnected: reconnected)
        }
    }
}
