import Foundation
import Logging
import Metrics
import NATSClient
import Outbox
import Prometheus
import ServiceLifecycle
import Synchronization
import WazuhSource

/// The gateway daemon (`wazuh-nats-gateway run`): one swift-service-lifecycle `ServiceGroup` built
/// from a validated `GatewayConfiguration`.
///
/// Services, in start order (graceful shutdown runs in reverse, one at a time):
/// 1. `MonitoringServer` (`/metrics`, `/healthz`, `/readyz`) when `monitoring.enable_metrics`;
/// 2. `GatewayStatusReporter` (source health and outbox depth into readiness and metrics);
/// 3. `NATSLink` (connects, reconnects, reports state; closes last among the workers);
/// 4. the delivery worker (drains the outbox within `delivery.shutdown_timeout` on shutdown);
/// 5. the detection services, one per watched manager (read its source, journal its changes; stop first).
///
/// So on SIGTERM detection stops, the worker drains what was journaled, NATS is drained and
/// closed, and the HTTP server goes last. Neither NATS nor `global.db` being unavailable stops the
/// daemon: both are retried and shown in `/readyz` and the metrics.
///
/// The library never bootstraps the global logging or metrics systems: the executable does, and
/// hands in the registry and factory; tests hand in their own.
public final class GatewayDaemon: Sendable {
    /// The gateway's version, logged at start and sent in heartbeats.
    public static let version = "0.1.0"

    /// Knobs the executable and tests set beyond the configuration file.
    public struct Options: Sendable {
        /// The configuration file, for the startup summary.
        public var configurationPath: String?
        /// Whether the group reacts to SIGTERM/SIGINT (the executable: yes; in-process tests: no).
        public var handleSignals: Bool
        /// How often source health and outbox depth are sampled into readiness and metrics.
        public var statusInterval: Duration
        /// Called with the bound HTTP port once the monitoring server listens (port 0 in tests).
        public var onMonitoringBound: (@Sendable (Int) async -> Void)?

        public init(
            configurationPath: String? = nil, handleSignals: Bool = false, statusInterval: Duration = .seconds(1),
            onMonitoringBound: (@Sendable (Int) async -> Void)? = nil
        ) {
            self.configurationPath = configurationPath
            self.handleSignals = handleSignals
            self.statusInterval = statusInterval
            self.onMonitoringBound = onMonitoringBound
        }
    }

    public let configuration: GatewayConfiguration
    /// What `/readyz` reports; fed by the NATS link and the status reporter.
    public let readiness: GatewayReadiness
    /// The metrics every part of the daemon records into.
    public let metrics: GatewayMetrics
    /// What the operator dashboard shows; recorded into next to the metrics.
    public let dashboard: DashboardState
    let registry: PrometheusCollectorRegistry
    let metricsFactory: any MetricsFactory
    let options: Options
    let logger: Logger
    private let group = GroupHandle()

    /// - Parameters:
    ///   - registry: exposed by `/metrics`; `metricsFactory` must record into it.
    ///   - readiness: defaults to `GatewayReadiness(configuration:)`; tests pass a shorter source age.
    public init(
        configuration: GatewayConfiguration, registry: PrometheusCollectorRegistry, metricsFactory: any MetricsFactory,
        readiness: GatewayReadiness? = nil, options: Options = Options(), logger: Logger
    ) {
        self.configuration = configuration
        self.registry = registry
        self.metricsFactory = metricsFactory
        self.metrics = GatewayMetrics(
            factory: metricsFactory, managers: configuration.watchedManagers.map(\.managerNode),
            labelSources: configuration.hasManagerList)
        self.dashboard = DashboardState(
            managerNode: configuration.wazuh.managerNode,
            managerNodes: configuration.watchedManagers.map(\.managerNode),
            gatewayVersion: Self.version)
        self.readiness = readiness ?? GatewayReadiness(configuration: configuration)
        self.options = options
        self.logger = logger
    }

    /// Runs until graceful shutdown (a signal, or `shutdownGracefully()`) has drained and closed everything.
    ///
    /// - Throws: `DaemonError` when the outbox cannot be opened or a key or NATS option cannot be
    ///   loaded (nothing runs then); errors of a service that failed (e.g. the HTTP port is taken).
    public func run() async throws {
        let startedAt = ContinuousClock.now
        HeapReturn.limitArenas()
        StartupSummary.log(
            configuration: self.configuration, configurationPath: self.options.configurationPath,
            version: Self.version, logger: self.logger)
        let outbox = try self.openOutbox()
        defer {
            do {
                try outbox.close()
            } catch {
                self.logger.error("closing the outbox failed", metadata: ["error": "\(error)"])
            }
        }
        do {
            _ = try outbox.stats()
        } catch {
            throw DaemonError(code: .outboxUnavailable, message: "cannot read the outbox", underlying: error)
        }
        let natsOptions: NATSConnectionOptions
        do {
            natsOptions = try self.configuration.natsConnectionOptions()
        } catch {
            throw DaemonError(
                code: .natsOptions, message: "cannot build the NATS connection options", underlying: error)
        }
        let managers = try self.makeWatchedManagers(outbox: outbox)
        if self.configuration.hasManagerList {
            self.readiness.expectSources(managers: managers.map(\.managerNode))
        }
        let link = NATSLink(
            options: natsOptions, retry: NATSLink.retryPolicy(reconnectDelay: self.configuration.nats.reconnectDelay),
            readiness: self.readiness, metrics: self.metrics, dashboard: self.dashboard,
            logger: self.logger.tagged(component: "nats"))
        let wire = try self.loadWireSetup()
        let (worker, transport) = self.makeDeliveryWorker(
            outbox: outbox, link: link, managers: managers, wire: wire, startedAt: startedAt)
        defer { transport.stop() }

        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if self.configuration.monitoring.enableMetrics {
            let logger = self.logger
            let address = self.configuration.monitoring.metricsAddress
            let onBound = self.options.onMonitoringBound
            let access = try self.dashboardAccess()
            let server = MonitoringServer(
                monitoring: self.configuration.monitoring, registry: self.registry, readiness: self.readiness,
                dashboard: access == nil ? nil : self.dashboard, dashboardAccess: access,
                logger: self.logger.tagged(component: "http"),
                onBound: { port in
                    logger.info(
                        "monitoring server listening",
                        metadata: [
                            "http.address": "\(address)", "http.port": "\(port)",
                            "http.dashboard": "\(access == nil ? "off" : "/")",
                        ])
                    await onBound?(port)
                })
            services.append(.init(service: server, serviceName: "http"))
        }
        let reporter = GatewayStatusReporter(
            sources: managers.map {
                .init(
                    manager: self.configuration.hasManagerList ? $0.managerNode : nil, monitor: $0.source,
                    metrics: $0.metrics)
            }, outbox: outbox, readiness: self.readiness, metrics: self.metrics,
            dashboard: self.dashboard, interval: self.options.statusInterval, logger: self.logger)
        services.append(.init(service: reporter, serviceName: "status"))
        services.append(.init(service: link, serviceName: "nats"))
        services.append(.init(service: worker, serviceName: "delivery"))
        // One detection service per manager: each waits on its own source and journals its own
        // cycles, so a manager whose source fails never holds back another's events.
        for manager in managers {
            let detection = self.makeDetectionService(manager: manager, wire: wire, wakeSignal: worker.wakeSignal)
            let name = self.configuration.hasManagerList ? "detection[\(manager.managerNode)]" : "detection"
            services.append(.init(service: detection, serviceName: name))
        }

        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: self.options.handleSignals ? [.sigterm, .sigint] : [],
            logger: self.logger.tagged(component: "lifecycle"))
        // A safety net above the worker's own drain deadline: the group cancels what is still running.
        groupConfiguration.maximumGracefulShutdownDuration = self.configuration.delivery.shutdownTimeout + .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        self.group.set(group)
        defer { self.group.set(nil) }
        self.logger.info("gateway running")
        do {
            try await group.run()
        } catch {
            for manager in managers { await manager.closeSource() }
            throw error
        }
        for manager in managers { await manager.closeSource() }
        self.logger.info(
            "gateway stopped",
            metadata: ["gateway.uptime_seconds": "\((ContinuousClock.now - startedAt).components.seconds)"])
    }

    /// Starts graceful shutdown, as SIGTERM does; returns at once (`run()` returns when done).
    public func shutdownGracefully() async {
        await self.group.get()?.triggerGracefulShutdown()
    }

    private func openOutbox() throws(DaemonError) -> OutboxStore {
        let path = self.configuration.outbox.path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw DaemonError(
                    code: .outboxUnavailable, message: "cannot create the outbox directory \(directory)",
                    underlying: error)
            }
            self.logger.info("created the outbox directory", metadata: ["outbox.directory": "\(directory)"])
        }
        let synchronous: OutboxSynchronous = self.configuration.outbox.synchronous == .full ? .full : .normal
        let store: OutboxStore
        do {
            store = try OutboxStore(
                path: path, synchronous: synchronous, logger: self.logger.tagged(component: "outbox"))
        } catch {
            throw DaemonError(code: .outboxUnavailable, message: "cannot open the outbox at \(path)", underlying: error)
        }
        let report = store.openReport
        if let aside = report.movedAsidePath {
            Counter(label: GatewayMetrics.prefix + "outbox_corruption_recoveries_total", factory: self.metricsFactory)
                .increment()
            self.logger.error(
                "the outbox was corrupt and was moved aside; a fresh journal was started and the source is re-baselined",
                metadata: [
                    "outbox.path": "\(path)", "outbox.moved_to": "\(aside)",
                    "error": "\(report.corruption.map { "\($0)" } ?? "unknown")",
                ])
        }
        return store
    }

    /// The dashboard's access policy, or nil when it is not served (disabled, or a non-loopback
    /// address without credentials: logged, never served open).
    private func dashboardAccess() throws(DaemonError) -> DashboardAccess? {
        let monitoring = self.configuration.monitoring
        guard monitoring.enableDashboard else { return nil }
        let access: DashboardAccess
        do {
            access = try monitoring.loadDashboardAccess()
        } catch {
            throw DaemonError(
                code: .dashboardCredentials, message: "cannot load the dashboard credentials", underlying: error)
        }
        guard access.isServed else {
            self.logger.warning(
                "the dashboard is not served: monitoring.metrics_address is not loopback and no dashboard credentials are set",
                metadata: ["http.address": "\(monitoring.metricsAddress)"])
            return nil
        }
        return access
    }

}

/// Holds the running group so `shutdownGracefully()` can reach it from another task.
private final class GroupHandle: Sendable {
    private let group = Mutex<ServiceGroup?>(nil)

    func set(_ group: ServiceGroup?) {
        self.group.withLock { $0 = group }
    }

    func get() -> ServiceGroup? {
        self.group.withLock { $0 }
    }
}

extension Logger {
    /// A copy tagged with the daemon component it logs for (`gateway.component`).
    func tagged(component: String) -> Logger {
        var copy = self
        copy[metadataKey: "gateway.component"] = .string(component)
        return copy
    }
}
