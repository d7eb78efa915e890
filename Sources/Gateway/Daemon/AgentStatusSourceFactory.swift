import Logging
import Timekeeping
import WazuhAPISource
import WazuhSource

/// A manager's source of agent status, and how to release it when the daemon stops.
public struct AgentStatusSourceHandle: Sendable {
    public var source: any AgentStatusSourcing
    /// Closes what the source holds open (the API client's connections); a no-op for the file/socket monitor.
    public var close: @Sendable () async -> Void
}

/// Builds the agent-status source one manager section (`wazuh:`, or an entry of a managers list)
/// asks for: ``AgentStatusMonitor`` for `file`, `wazuh-db` and `auto`, ``WazuhAPIMonitor`` for `api`.
///
/// - Parameters:
///   - section: the section's key path, for error messages (`wazuh`, `managers[1]`).
///   - clientKeysPath: client.keys to compare with global.db (file sources only), or `nil`.
/// - Throws: `DaemonError` when the API password cannot be loaded or the API client cannot be built.
public func makeAgentStatusSource(
    wazuh: GatewayConfiguration.Wazuh, section: String = "wazuh", clientKeysPath: String?,
    clock: any GatewayClock = SystemClock(), logger: Logger
) throws -> AgentStatusSourceHandle {
    guard wazuh.source == .api else {
        let monitor = AgentStatusMonitor(
            configuration: .init(
                databasePath: wazuh.dbPath, clientKeysPath: clientKeysPath, pollInterval: wazuh.pollInterval,
                source: wazuh.monitorSource, socketPath: wazuh.socketPath,
                socketPollInterval: wazuh.socketPollInterval, socketFullSweepInterval: wazuh.socketFullSweepInterval),
            clock: clock, logger: logger)
        return AgentStatusSourceHandle(source: monitor, close: {})
    }
    let settings = wazuh.api
    let password: Secret
    do {
        password = try settings.loadPassword(section: section)
    } catch {
        throw DaemonError(code: .sourceUnavailable, message: "cannot load the Wazuh API password", underlying: error)
    }
    do {
        let monitor = try WazuhAPIMonitor(
            configuration: .init(
                url: settings.url ?? "",
                credentials: WazuhAPICredentials(user: settings.user ?? "", password: password.revealed),
                caFile: settings.caFile, requestsPerMinute: settings.requestsPerMinute, pageSize: settings.pageSize),
            pollInterval: settings.pollInterval, clock: clock, logger: logger)
        return AgentStatusSourceHandle(source: monitor, close: { await monitor.shutdown() })
    } catch {
        throw DaemonError(code: .sourceUnavailable, message: "cannot set up the Wazuh API client", underlying: error)
    }
}
