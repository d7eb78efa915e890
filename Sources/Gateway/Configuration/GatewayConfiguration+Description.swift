extension GatewayConfiguration {
    /// The effective configuration — defaults, file and environment overrides merged — as YAML in
    /// the file's own layout, with every secret printed as `<redacted>`. Unset optional keys print
    /// as `null`; `wazuh.db_path` and `wazuh.client_keys_path` print their effective paths.
    public func effectiveDescription() -> String {
        let redacted = YAMLValue.quoted("<redacted>")
        func secret(_ value: Secret?) -> YAMLValue { value == nil ? .null : redacted }
        func duration(_ value: Duration) -> YAMLValue { .quoted(ConfigurationUnits.formatDuration(value)) }
        func string(_ value: String?) -> YAMLValue { value.map(YAMLValue.quoted) ?? .null }

        let sections: [(String, [(String, YAMLValue)])] = [
            (
                "wazuh",
                [
                    ("install_root", string(self.wazuh.installRoot)),
                    ("db_path", string(self.wazuh.dbPath)),
                    ("client_keys_path", string(self.wazuh.clientKeysPath)),
                    ("poll_interval", duration(self.wazuh.pollInterval)),
                    ("manager_node", string(self.wazuh.managerNode)),
                    ("source", .plain(self.wazuh.source.rawValue)),
                    ("socket_path", string(self.wazuh.socketPath)),
                    ("socket_poll_interval", duration(self.wazuh.socketPollInterval)),
                    ("socket_full_sweep_interval", duration(self.wazuh.socketFullSweepInterval)),
                ]
            ),
            (
                "nats",
                [
                    ("url", string(self.nats.url)),
                    ("credentials_file", string(self.nats.credentialsFile)),
                    ("tls_cert", string(self.nats.tlsCert)),
                    ("tls_key", string(self.nats.tlsKey)),
                    ("tls_ca", string(self.nats.tlsCA)),
                    ("user", string(self.nats.user)),
                    ("password", secret(self.nats.password)),
                    ("password_file", string(self.nats.passwordFile)),
                    ("token", secret(self.nats.token)),
                    ("token_file", string(self.nats.tokenFile)),
                    ("nkey_seed_file", string(self.nats.nkeySeedFile)),
                    ("subject_prefix", string(self.nats.subjectPrefix)),
                    ("max_reconnects", .plain(String(self.nats.maxReconnects))),
                    ("reconnect_delay", duration(self.nats.reconnectDelay)),
                    ("delivery", .plain(self.nats.delivery.rawValue)),
                    ("stream", string(self.nats.stream)),
                    ("stream_replicas", .plain(String(self.nats.streamReplicas))),
                    ("duplicate_window", duration(self.nats.duplicateWindow)),
                    ("request_timeout", duration(self.nats.requestTimeout)),
                    ("ping_interval", duration(self.nats.pingInterval)),
                ]
            ),
            (
                "security",
                [
                    ("signing_key_path", string(self.security.signingKeyPath)),
                    ("encrypt_messages", .plain(String(self.security.encryptMessages))),
                    ("encryption_key_path", string(self.security.encryptionKeyPath)),
                ]
            ),
            (
                "outbox",
                [
                    ("path", string(self.outbox.path)),
                    ("retention", duration(self.outbox.retention)),
                    ("max_bytes", .quoted(ConfigurationUnits.formatByteSize(self.outbox.maxBytes))),
                    ("synchronous", .plain(self.outbox.synchronous.rawValue)),
                    ("audit", .plain(String(self.outbox.audit))),
                ]
            ),
            (
                "delivery",
                [
                    ("batch_size", .plain(String(self.delivery.batchSize))),
                    ("max_in_flight", .plain(String(self.delivery.maxInFlight))),
                    ("backoff_base", duration(self.delivery.backoffBase)),
                    ("backoff_max", duration(self.delivery.backoffMax)),
                    ("breaker_failure_threshold", .plain(String(self.delivery.breakerFailureThreshold))),
                    ("breaker_cooldown", duration(self.delivery.breakerCooldown)),
                    ("compression_min_bytes", .plain(String(self.delivery.compressionMinBytes))),
                    ("shutdown_timeout", duration(self.delivery.shutdownTimeout)),
                ]
            ),
            (
                "monitoring",
                [
                    ("enable_metrics", .plain(String(self.monitoring.enableMetrics))),
                    ("metrics_address", string(self.monitoring.metricsAddress)),
                    ("metrics_port", .plain(String(self.monitoring.metricsPort))),
                    ("log_level", .plain(self.monitoring.logLevel.rawValue)),
                    ("log_format", .plain(self.monitoring.logFormat.rawValue)),
                    ("heartbeat_interval", duration(self.monitoring.heartbeatInterval)),
                    ("enable_dashboard", .plain(String(self.monitoring.enableDashboard))),
                    ("dashboard_user", string(self.monitoring.dashboardUser)),
                    ("dashboard_password_file", string(self.monitoring.dashboardPasswordFile)),
                    ("dashboard_token_file", string(self.monitoring.dashboardTokenFile)),
                ]
            ),
            (
                "anomaly",
                [
                    ("enabled", .plain(String(self.anomaly.enabled))),
                    ("window", duration(.seconds(self.anomaly.windowSeconds))),
                    ("mass_disconnect_percent", .plain(String(self.anomaly.massDisconnectPercent))),
                    ("mass_disconnect_min_agents", .plain(String(self.anomaly.massDisconnectMinAgents))),
                    ("flapping_transitions", .plain(String(self.anomaly.flappingTransitions))),
                    ("silence_after", duration(.seconds(self.anomaly.silenceSeconds))),
                    ("reregistration", .plain(String(self.anomaly.reregistration))),
                    (
                        "maintenance_windows",
                        .quoted(self.anomaly.maintenanceWindows.map(\.description).joined(separator: ", "))
                    ),
                    ("stop_grace", duration(.seconds(self.anomaly.stopGraceSeconds))),
                    ("stop_max_per_window", .plain(String(self.anomaly.stopMaxPerWindow))),
                ]
            ),
            (
                "rate_limit",
                [
                    ("per_agent", .plain(String(self.rateLimit.perAgent))),
                    ("window", duration(self.rateLimit.window)),
                ]
            ),
        ]
        var lines: [String] = []
        for (section, entries) in sections {
            lines.append("\(section):")
            for (key, value) in entries {
                lines.append("  \(key): \(value.rendered)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A scalar as printed by `effectiveDescription()`.
private enum YAMLValue {
    case plain(String)
    case quoted(String)
    case null

    var rendered: String {
        switch self {
        case .plain(let text):
            return text
        case .null:
            return "null"
        case .quoted(let text):
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                case "\t": escaped += "\\t"
                case "\r": escaped += "\\r"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        escaped += "\\x" + String(scalar.value, radix: 16).leftPadded2()
                    } else {
                        escaped.unicodeScalars.append(scalar)
                    }
                }
            }
            return "\"\(escaped)\""
        }
    }
}

extension String {
    fileprivate func leftPadded2() -> String { self.count < 2 ? "0" + self : self }
}
