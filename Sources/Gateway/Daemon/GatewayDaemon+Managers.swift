import Foundation
import Logging
import Outbox
import WazuhSource
import WireContract

extension GatewayDaemon {
    /// One watched manager: its source, its view of the shared outbox (own snapshot and anomaly
    /// state), its id scope and source metrics. Each gets its own detection service and heartbeat;
    /// the outbox and the delivery worker are shared.
    struct WatchedManager {
        var configuration: GatewayConfiguration.Wazuh
        /// Non-nil with `managers:`: ids get `@{node}` (contract 1.4).
        var scope: ManagerScope?
        var source: any AgentStatusSourcing
        /// Releases what the source holds open (the API client's connections) once the daemon stopped.
        var closeSource: @Sendable () async -> Void
        var journal: OutboxStore
        var metrics: SourceMetrics
        var logger: Logger

        var managerNode: String { self.configuration.managerNode }
    }

    /// The watched managers in configuration order: the `managers:` entries, or the single `wazuh:`
    /// section (which keeps the unscoped journal and ids, so an upgraded gateway resumes).
    /// - Throws: `DaemonError` when a manager's source cannot be set up (its API password or client).
    func makeWatchedManagers(outbox: OutboxStore) throws -> [WatchedManager] {
        let scoped = self.configuration.hasManagerList
        return try self.configuration.watchedManagers.enumerated().map { index, manager in
            var logger = self.logger
            if scoped { logger[metadataKey: "wazuh.manager_node"] = .string(manager.managerNode) }
            let source = try makeAgentStatusSource(
                wazuh: manager, section: self.configuration.managerKeyPrefix(index),
                clientKeysPath: manager.source == .api ? nil : Self.clientKeysPath(of: manager),
                logger: logger.tagged(component: "source"))
            return WatchedManager(
                configuration: manager, scope: scoped ? ManagerScope(managerNode: manager.managerNode) : nil,
                source: source.source, closeSource: source.close,
                journal: scoped ? outbox.scoped(toManager: manager.managerNode) : outbox,
                metrics: self.metrics.managerSources[manager.managerNode] ?? self.metrics.source, logger: logger)
        }
    }

    /// An explicit `client_keys_path`, else the default one when it exists.
    private static func clientKeysPath(of manager: GatewayConfiguration.Wazuh) -> String? {
        if let explicit = manager.explicitClientKeysPath {
            return explicit
        }
        let path = manager.clientKeysPath
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}
