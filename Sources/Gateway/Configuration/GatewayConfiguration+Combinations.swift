import Foundation

extension GatewayConfiguration {
    /// Problems with values and combinations of keys that need no file system access: ranges that
    /// depend on other keys, keys that require or exclude each other, malformed URLs and subjects.
    public func combinationProblems() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func add(_ code: ConfigurationError.Code, _ keyPath: String, _ message: String) {
            problems.append(
                ConfigurationError(code: code, keyPath: keyPath, message: message, origin: self.keyOrigins[keyPath]))
        }

        if self.wazuh.managerNode.isEmpty == false, self.wazuh.managerNode.contains(where: \.isNewline) {
            add(.invalidValue, "wazuh.manager_node", "must be a single line")
        }
        if self.wazuh.pollInterval <= .zero {
            add(.invalidValue, "wazuh.poll_interval", "must be longer than 0ms")
        }
        if self.wazuh.socketPollInterval < .milliseconds(100) {
            add(
                .invalidValue, "wazuh.socket_poll_interval",
                "must be at least 100ms (each poll is a query wazuh-db answers), found \(ConfigurationUnits.formatDuration(self.wazuh.socketPollInterval))"
            )
        }
        if self.wazuh.socketFullSweepInterval < self.wazuh.socketPollInterval {
            add(
                .invalidValue, "wazuh.socket_full_sweep_interval",
                "must be at least wazuh.socket_poll_interval (\(ConfigurationUnits.formatDuration(self.wazuh.socketPollInterval))), found \(ConfigurationUnits.formatDuration(self.wazuh.socketFullSweepInterval))"
            )
        }
        if self.wazuh.source != .file, self.wazuh.socketPath.utf8.count > 107 {
            add(.invalidValue, "wazuh.socket_path", "must be at most 107 bytes long (a Unix socket path)")
        }
        if self.wazuh.source != .file, self.wazuh.socketPath.isEmpty {
            add(
                .invalidValue, "wazuh.socket_path",
                "must not be empty when wazuh.source is \(self.wazuh.source.rawValue)")
        }

        if !self.nats.url.isEmpty, let problem = Self.natsURLProblem(self.nats.url) {
            add(.invalidValue, "nats.url", problem)
        }
        if let problem = Self.subjectPrefixProblem(self.nats.subjectPrefix) {
            add(.invalidValue, "nats.subject_prefix", problem)
        }
        if self.nats.stream.isEmpty
            || self.nats.stream.contains(where: { $0.isWhitespace || ".*>/\\".contains($0) })
        {
            add(
                .invalidValue, "nats.stream",
                "expected a JetStream stream name without whitespace, '.', '*', '>', '/' or '\\', found \"\(self.nats.stream)\""
            )
        }
        if self.nats.duplicateWindow < NATS.minimumDuplicateWindow {
            add(
                .invalidValue, "nats.duplicate_window",
                "must be at least 2m (10m recommended) so resent messages are still recognised as duplicates, found \(ConfigurationUnits.formatDuration(self.nats.duplicateWindow))"
            )
        }
        for (key, value) in [
            ("nats.request_timeout", self.nats.requestTimeout), ("nats.ping_interval", self.nats.pingInterval),
            ("delivery.backoff_base", self.delivery.backoffBase), ("delivery.backoff_max", self.delivery.backoffMax),
            ("delivery.shutdown_timeout", self.delivery.shutdownTimeout),
            ("monitoring.heartbeat_interval", self.monitoring.heartbeatInterval),
            ("outbox.retention", self.outbox.retention),
        ] where value <= .zero {
            add(.invalidValue, key, "must be longer than 0ms")
        }
        if (self.nats.tlsCert == nil) != (self.nats.tlsKey == nil) {
            let (present, missing) = self.nats.tlsCert != nil ? ("tls_cert", "tls_key") : ("tls_key", "tls_cert")
            add(
                .invalidCombination, "nats.\(missing)",
                "required because nats.\(present) is set (client certificate and key go together)")
        }
        if self.nats.password != nil, self.nats.passwordFile != nil {
            add(.invalidCombination, "nats.password_file", "set either nats.password or nats.password_file, not both")
        }
        if self.nats.token != nil, self.nats.tokenFile != nil {
            add(.invalidCombination, "nats.token_file", "set either nats.token or nats.token_file, not both")
        }
        let hasPassword = self.nats.password != nil || self.nats.passwordFile != nil
        if hasPassword, self.nats.user == nil {
            add(.invalidCombination, "nats.user", "required because a password is set")
        }
        if self.nats.user != nil, !hasPassword {
            add(
                .invalidCombination, "nats.password_file",
                "nats.user is set but no password (nats.password_file, nats.password or WAZUH_NATS_GATEWAY_NATS_PASSWORD)"
            )
        }
        let methods = [
            (self.nats.user != nil || hasPassword) ? "user/password" : nil,
            (self.nats.token != nil || self.nats.tokenFile != nil) ? "token" : nil,
            self.nats.nkeySeedFile != nil ? "nkey_seed_file" : nil,
            self.nats.credentialsFile != nil ? "credentials_file" : nil,
        ].compactMap { $0 }
        if methods.count > 1 {
            add(
                .invalidCombination, "nats",
                "choose one authentication method, found \(methods.joined(separator: ", "))")
        }

        if self.security.encryptMessages, self.security.encryptionKeyPath?.isEmpty ?? true {
            add(
                .invalidCombination, "security.encryption_key_path",
                "required because security.encrypt_messages is true")
        }

        for (key, value, range) in [
            ("nats.max_reconnects", self.nats.maxReconnects, -1...Int.max),
            ("nats.stream_replicas", self.nats.streamReplicas, 1...5),
            ("delivery.batch_size", self.delivery.batchSize, 1...10_000),
            ("delivery.max_in_flight", self.delivery.maxInFlight, 1...100_000),
            ("delivery.breaker_failure_threshold", self.delivery.breakerFailureThreshold, 1...Int.max),
            ("delivery.compression_min_bytes", self.delivery.compressionMinBytes, 0...Int.max),
            ("monitoring.metrics_port", self.monitoring.metricsPort, 0...65_535),
        ] where !range.contains(value) {
            let expectation =
                range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            add(.invalidValue, key, "expected an integer \(expectation), found \(value)")
        }
        if self.delivery.backoffBase > self.delivery.backoffMax {
            add(
                .invalidCombination, "delivery.backoff_base",
                "must not exceed delivery.backoff_max (\(ConfigurationUnits.formatDuration(self.delivery.backoffMax)))")
        }
        if self.outbox.maxBytes < 1 << 20 {
            add(
                .invalidValue, "outbox.max_bytes",
                "must be at least 1MiB, found \(ConfigurationUnits.formatByteSize(self.outbox.maxBytes))")
        }
        if self.monitoring.enableMetrics, self.monitoring.metricsAddress.isEmpty {
            add(.invalidValue, "monitoring.metrics_address", "must not be empty")
        }
        let monitoring = self.monitoring
        if monitoring.dashboardPasswordFile != nil, (monitoring.dashboardUser ?? "").isEmpty {
            add(.invalidCombination, "monitoring.dashboard_password_file", "requires monitoring.dashboard_user")
        }
        if monitoring.dashboardUser != nil, monitoring.dashboardPasswordFile == nil {
            add(.invalidCombination, "monitoring.dashboard_user", "requires monitoring.dashboard_password_file")
        }
        if let user = monitoring.dashboardUser, user.contains(":") || user.contains(where: \.isNewline) {
            add(.invalidValue, "monitoring.dashboard_user", "must not contain ':' or a line break")
        }
        return problems
    }

    /// Checks each comma-separated `nats://host:port` / `tls://host:port` URL. Credentials inside
    /// the URL are refused: URLs end up in logs, secrets belong in the `user`/`password*` keys.
    static func natsURLProblem(_ text: String) -> String? {
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let url = part.trimmingWhitespace()
            guard let schemeEnd = url.range(of: "://") else {
                return "expected nats://host:port or tls://host:port, found \"\(Self.redactingUserInfo(url))\""
            }
            let scheme = url[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "nats" || scheme == "tls" else {
                return "unsupported scheme \"\(scheme)\" (expected nats or tls)"
            }
            var authority = Substring(url[schemeEnd.upperBound...])
            if authority.hasSuffix("/") { authority = authority.dropLast() }
            guard !authority.contains("@") else {
                return
                    "credentials in the URL are not accepted (URLs are logged); use nats.user with nats.password_file, or nats.token_file"
            }
            guard !authority.isEmpty, !authority.contains("/") else {
                return "expected nats://host:port, found \"\(url)\""
            }
            if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
                let port = authority[authority.index(after: colon)...]
                guard let number = Int(port), (1...65_535).contains(number) else {
                    return "port must be between 1 and 65535 in \"\(url)\""
                }
                if authority[..<colon].isEmpty {
                    return "missing host in \"\(url)\""
                }
            }
        }
        return nil
    }

    private static func redactingUserInfo(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        return "<redacted>" + url[at...]
    }

    /// A subject prefix is one or more dot-separated tokens of visible characters, no wildcards.
    static func subjectPrefixProblem(_ prefix: String) -> String? {
        let tokens = prefix.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !prefix.isEmpty
            && tokens.allSatisfy { token in
                !token.isEmpty && token != "*" && token != ">"
                    && !token.contains(where: { $0.isWhitespace || $0 == "*" || $0 == ">" })
            }
        return valid ? nil : "expected dot-separated subject tokens without spaces or wildcards, found \"\(prefix)\""
    }
}
