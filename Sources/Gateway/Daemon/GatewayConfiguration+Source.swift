import WazuhSource

extension GatewayConfiguration.Wazuh {
    /// `wazuh.source` as the monitor's source selection.
    var monitorSource: AgentStatusMonitor.Configuration.SourceSelection {
        switch source {
        case .file: .file
        case .wazuhDB: .wazuhDB
        case .auto, .api: .auto
        }
    }
}
