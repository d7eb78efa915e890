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
        var journal: OutboxStore
        var metrics: SourceMetrics
        var logger: Logger

        var managerNode: String { self.configuration.managerNode }
    }

    /// The watched managers in configuration order: the `managers:` entries, or the single `wazuh:`
    /// section (which keeps the unscoped journal and ids, so an upgraded gateway resumes).
    func makeWatchedManagers(outbox: OutboxStore) -> [WatchedManager] {
        let scoped = self.configuration.hasManagerList
        return self.configuration.watchedManagers.map { manager in
            var logger = self.logger
            if scoped { logger[metadataKey: "wazuh.manager_node"] = .string(manager.managerNode) }
            return WatchedManager(
                configuration: manager, scope: scoped ? ManagerScope(managerNode: manager.managerNode) : nil,
                source: self.makeAgentStatusSource(for: manager, logger: logger.tagged(component: "source")),
                journal: scoped ? outbox.scoped(toManager: manager.managerNode) : outbox,
                metrics: self.metrics.managerSources[manager.managerNode] ?? self.metrics.source, logger: logger)
        }
    }

    /// The agent status source of one manager, from its `source` key: the only place a source is
    /// chosen, so a new kind of source is one more case here.
    func makeAgentStatusSource(
        for manager: GatewayConfiguration.Wazuh, logger: Logger
    ) -> any AgentStatusSourcing {
        AgentStatusMonitor(
            configuration: .init(
                databasePath: manager.dbPath, clientKeysPath: Self.clientKeysPath(of: manager),
                pollInterval: manager.pollInterval, source: manager.monitorSource, socketPath: manager.socketPath,
                socketPollInterval: manager.socketPollInterval,
                socketFullSweepInterval: manager.socketFullSweepInterval),
            logger: logger)
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
