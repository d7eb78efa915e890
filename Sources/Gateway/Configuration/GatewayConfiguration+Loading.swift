import Foundation
import Yams

extension GatewayConfiguration {
    /// Reads and loads a configuration file; see `load(yaml:environment:)`.
    ///
    /// - Throws: `ConfigurationErrors` listing every problem, each with its key path and position.
    public static func load(fileAt path: String, environment: [String: String]) throws -> GatewayConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationErrors(
                [
                    ConfigurationError(
                        code: .unreadableFile, keyPath: nil, message: "cannot read the file as UTF-8 text")
                ],
                source: path)
        }
        do {
            var configuration = try self.load(yaml: text, environment: environment)
            configuration.sourceFile = path
            return configuration
        } catch var errors as ConfigurationErrors {
            errors.source = path
            throw errors
        }
    }

    /// Loads a configuration from YAML text plus `WAZUH_NATS_GATEWAY_<SECTION>_<KEY>` overrides.
    ///
    /// Checks types, ranges and combinations of keys, and refuses unknown keys and unknown override
    /// variables (with a "did you mean" hint) — a misspelt key would otherwise silently leave a
    /// default in place. Does not touch referenced files: `validate()` does.
    ///
    /// - Parameter environment: usually `ProcessInfo.processInfo.environment`; variables without the
    ///   `WAZUH_NATS_GATEWAY_` prefix are ignored.
    /// - Throws: `ConfigurationErrors` listing every problem found.
    public static func load(yaml: String, environment: [String: String]) throws -> GatewayConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigurationErrors([Self.describe(error)])
        }
        var reader = ConfigurationReader(root: root, environment: environment)
        var configuration = GatewayConfiguration(
            managerNode: reader.requiredString("wazuh", "manager_node", default: ""),
            natsURL: reader.requiredString("nats", "url", default: "")
        )
        configuration.wazuh.read(from: &reader)
        configuration.nats.read(from: &reader)
        configuration.security.read(from: &reader)
        configuration.outbox.read(from: &reader)
        configuration.delivery.read(from: &reader)
        configuration.monitoring.read(from: &reader)
        configuration.anomaly.read(from: &reader)
        configuration.rateLimit.perAgent = reader.int(
            "rate_limit", "per_agent", default: configuration.rateLimit.perAgent, range: 0...1_000_000)
        configuration.rateLimit.window = reader.duration(
            "rate_limit", "window", default: configuration.rateLimit.window)
        configuration.keyOrigins = reader.origins
        // Combination problems for keys that already failed on their own would only repeat them.
        let failedKeys = Set(reader.errors.compactMap(\.keyPath))
        var errors = reader.errors
        errors += configuration.combinationProblems().filter { problem in
            guard let keyPath = problem.keyPath else { return true }
            return !failedKeys.contains(keyPath)
        }
        guard errors.isEmpty else {
            throw ConfigurationErrors(errors)
        }
        return configuration
    }

    /// A YAML syntax error by position and problem only: Yams' own description quotes the
    /// offending line, which may hold a password.
    private static func describe(_ error: YamlError) -> ConfigurationError {
        func make(_ problem: String, _ mark: Mark?) -> ConfigurationError {
            ConfigurationError(
                code: .invalidYAML, keyPath: nil, message: "invalid YAML: \(problem)",
                origin: mark.map { .file(line: $0.line, column: $0.column) })
        }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            return make(problem, mark)
        case .reader(let problem, _, _, _):
            return make(problem, nil)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Key names are schema words, never secrets: safe to print.
            let names = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
            return ConfigurationError(
                code: .invalidYAML, keyPath: nil,
                message: "key \(names) appears more than once in the same mapping",
                origin: .file(line: context.mark.line, column: context.mark.column))
        default:
            return make("the document cannot be parsed", nil)
        }
    }
}

extension GatewayConfiguration.Wazuh {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        if let root = reader.string("wazuh", "install_root") {
            self.installRoot = root
        }
        self.explicitDBPath = reader.string("wazuh", "db_path")
        self.explicitClientKeysPath = reader.string("wazuh", "client_keys_path")
        self.pollInterval = reader.duration("wazuh", "poll_interval", default: self.pollInterval)
        self.source = reader.enumeration("wazuh", "source", default: self.source)
        self.explicitSocketPath = reader.string("wazuh", "socket_path")
        self.socketPollInterval = reader.duration("wazuh", "socket_poll_interval", default: self.socketPollInterval)
        self.socketFullSweepInterval = reader.duration(
            "wazuh", "socket_full_sweep_interval", default: self.socketFullSweepInterval)
    }
}

extension GatewayConfiguration.NATS {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        self.credentialsFile = reader.string("nats", "credentials_file")
        self.tlsCert = reader.string("nats", "tls_cert")
        self.tlsKey = reader.string("nats", "tls_key")
        self.tlsCA = reader.string("nats", "tls_ca")
        self.user = reader.string("nats", "user")
        self.password = reader.secret("nats", "password")
        self.passwordFile = reader.string("nats", "password_file")
        self.token = reader.secret("nats", "token")
        self.tokenFile = reader.string("nats", "token_file")
        self.nkeySeedFile = reader.string("nats", "nkey_seed_file")
        self.subjectPrefix = reader.string("nats", "subject_prefix") ?? self.subjectPrefix
        self.maxReconnects = reader.int("nats", "max_reconnects", default: self.maxReconnects, range: -1...Int.max)
        self.reconnectDelay = reader.duration("nats", "reconnect_delay", default: self.reconnectDelay)
        self.delivery = reader.enumeration("nats", "delivery", default: self.delivery)
        self.stream = reader.string("nats", "stream") ?? self.stream
        self.streamReplicas = reader.int("nats", "stream_replicas", default: self.streamReplicas, range: 1...5)
        self.duplicateWindow = reader.duration("nats", "duplicate_window", default: self.duplicateWindow)
        self.requestTimeout = reader.duration("nats", "request_timeout", default: self.requestTimeout)
        self.pingInterval = reader.duration("nats", "ping_interval", default: self.pingInterval)
    }
}

extension GatewayConfiguration.Security {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        self.signingKeyPath = reader.requiredString("security", "signing_key_path", default: "")
        self.encryptMessages = reader.bool("security", "encrypt_messages", default: self.encryptMessages)
        self.encryptionKeyPath = reader.string("security", "encryption_key_path")
    }
}

extension GatewayConfiguration.Outbox {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        self.path = reader.string("outbox", "path") ?? self.path
        self.retention = reader.duration("outbox", "retention", default: self.retention)
        self.maxBytes = reader.int64Size("outbox", "max_bytes", default: self.maxBytes)
        self.synchronous = reader.enumeration("outbox", "synchronous", default: self.synchronous)
        self.audit = reader.bool("outbox", "audit", default: self.audit)
    }
}

extension GatewayConfiguration.Delivery {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        self.batchSize = reader.int("delivery", "batch_size", default: self.batchSize, range: 1...10_000)
        self.maxInFlight = reader.int("delivery", "max_in_flight", default: self.maxInFlight, range: 1...100_000)
        self.backoffBase = reader.duration("delivery", "backoff_base", default: self.backoffBase)
        self.backoffMax = reader.duration("delivery", "backoff_max", default: self.backoffMax)
        self.breakerFailureThreshold = reader.int(
            "delivery", "breaker_failure_threshold", default: self.breakerFailureThreshold, range: 1...Int.max)
        self.breakerCooldown = reader.duration("delivery", "breaker_cooldown", default: self.breakerCooldown)
        self.compressionMinBytes = reader.int(
            "delivery", "compression_min_bytes", default: self.compressionMinBytes, range: 0...Int.max)
        self.shutdownTimeout = reader.duration("delivery", "shutdown_timeout", default: self.shutdownTimeout)
    }
}

extension GatewayConfiguration.Monitoring {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        self.enableMetrics = reader.bool("monitoring", "enable_metrics", default: self.enableMetrics)
        self.metricsAddress = reader.string("monitoring", "metrics_address") ?? self.metricsAddress
        self.metricsPort = reader.int("monitoring", "metrics_port", default: self.metricsPort, range: 0...65_535)
        self.logLevel = reader.enumeration("monitoring", "log_level", default: self.logLevel)
        self.logFormat = reader.enumeration("monitoring", "log_format", default: self.logFormat)
        self.heartbeatInterval = reader.duration("monitoring", "heartbeat_interval", default: self.heartbeatInterval)
        self.enableDashboard = reader.bool("monitoring", "enable_dashboard", default: self.enableDashboard)
        self.dashboardUser = reader.string("monitoring", "dashboard_user") ?? self.dashboardUser
        self.dashboardPasswordFile =
            reader.string("monitoring", "dashboard_password_file") ?? self.dashboardPasswordFile
        self.dashboardTokenFile = reader.string("monitoring", "dashboard_token_file") ?? self.dashboardTokenFile
    }
}

extension AnomalyThresholds {
    fileprivate mutating func read(from reader: inout ConfigurationReader) {
        self.enabled = reader.bool("anomaly", "enabled", default: self.enabled)
        self.windowSeconds = max(
            1, reader.duration("anomaly", "window", default: .seconds(self.windowSeconds)).components.seconds)
        self.massDisconnectPercent = reader.int(
            "anomaly", "mass_disconnect_percent", default: self.massDisconnectPercent, range: 1...100)
        self.massDisconnectMinAgents = reader.int(
            "anomaly", "mass_disconnect_min_agents", default: self.massDisconnectMinAgents, range: 1...Int.max)
        self.flappingTransitions = reader.int(
            "anomaly", "flapping_transitions", default: self.flappingTransitions, range: 1...Int.max)
        self.silenceSeconds =
            reader.duration(
                "anomaly", "silence_after", default: .seconds(self.silenceSeconds)
            ).components.seconds
        self.reregistration = reader.bool("anomaly", "reregistration", default: self.reregistration)
        self.stopGraceSeconds =
            reader.duration("anomaly", "stop_grace", default: .seconds(self.stopGraceSeconds)).components.seconds
        self.stopMaxPerWindow = reader.int(
            "anomaly", "stop_max_per_window", default: self.stopMaxPerWindow, range: 0...Int.max)
        if let text = reader.string("anomaly", "maintenance_windows") {
            var windows: [DailyWindow] = []
            for part in text.split(separator: ",") where !part.trimmingCharacters(in: .whitespaces).isEmpty {
                guard let window = DailyWindow(parsing: String(part)) else {
                    reader.report(
                        .invalidValue, "anomaly.maintenance_windows",
                        "expected comma-separated daily UTC windows such as \"22:00-23:30, 02:00-03:00\", "
                            + "found \(String(part).trimmingCharacters(in: .whitespaces).debugDescription)")
                    continue
                }
                windows.append(window)
            }
            self.maintenanceWindows = windows
        }
    }
}
