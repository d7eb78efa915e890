import Logging
import NATSClient

/// The one log line the daemon writes when it starts: what runs, from where, to where — never a
/// secret (NATS servers are logged as host:port, without any user or password from the URL).
enum StartupSummary {
    static func metadata(
        configuration: GatewayConfiguration, configurationPath: String?, version: String
    ) -> Logger.Metadata {
        let servers: String
        if let parsed = try? NATSServerAddress.parseList(configuration.nats.url) {
            servers = parsed.map { "\($0.tls ? "tls" : "nats")://\($0.host):\($0.port)" }.joined(separator: ",")
        } else {
            servers = "unparsable"
        }
        var authentication = "none"
        if configuration.nats.credentialsFile != nil {
            authentication = "credentials_file"
        } else if configuration.nats.nkeySeedFile != nil {
            authentication = "nkey"
        } else if configuration.nats.token != nil || configuration.nats.tokenFile != nil {
            authentication = "token"
        } else if configuration.nats.user != nil {
            authentication = "user_password"
        }
        return [
            "gateway.version": .string(version),
            "gateway.config_path": .string(configurationPath ?? "-"),
            "wazuh.db_path": .string(configuration.wazuh.dbPath),
            "wazuh.manager_node": .string(configuration.wazuh.managerNode),
            "wazuh.poll_interval": .string("\(configuration.wazuh.pollInterval)"),
            "wazuh.source": .string(configuration.wazuh.source.rawValue),
            "wazuh.socket_path": .string(configuration.wazuh.source == .file ? "-" : configuration.wazuh.socketPath),
            "outbox.path": .string(configuration.outbox.path),
            "nats.servers": .string(servers),
            "nats.auth": .string(authentication),
            "nats.tls": .string(configuration.nats.tlsCert != nil || configuration.nats.tlsCA != nil ? "on" : "off"),
            "nats.delivery": .string(configuration.nats.delivery.rawValue),
            "nats.stream": .string(configuration.nats.stream),
            "nats.subject_prefix": .string(configuration.nats.subjectPrefix),
            "security.signing": .string(configuration.security.signingKeyPath != nil ? "on" : "off"),
            "security.encryption": .string(configuration.security.encryptMessages ? "on" : "off"),
            "monitoring.http": .string(
                configuration.monitoring.enableMetrics
                    ? "\(configuration.monitoring.metricsAddress):\(configuration.monitoring.metricsPort)" : "off"),
        ]
    }

    static func log(configuration: GatewayConfiguration, configurationPath: String?, version: String, logger: Logger) {
        logger.info(
            "wazuh-nats-gateway starting",
            metadata: metadata(configuration: configuration, configurationPath: configurationPath, version: version))
    }
}
