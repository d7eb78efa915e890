/// Every section and key the configuration file accepts, in file order. Unknown-key detection,
/// "did you mean" suggestions and environment variable names all derive from this list.
public enum ConfigurationSchema {
    /// Prefix of environment overrides: `WAZUH_NATS_GATEWAY_<SECTION>_<KEY>`.
    public static let environmentPrefix = "WAZUH_NATS_GATEWAY_"

    public static let sections: [(name: String, keys: [String])] = [
        (
            "wazuh",
            [
                "install_root", "db_path", "client_keys_path", "poll_interval", "manager_node", "source", "socket_path",
                "socket_poll_interval", "socket_full_sweep_interval",
            ]
        ),
        (
            "nats",
            [
                "url", "credentials_file", "tls_cert", "tls_key", "tls_ca", "user", "password", "password_file",
                "token", "token_file", "nkey_seed_file", "subject_prefix", "max_reconnects", "reconnect_delay",
                "delivery", "stream", "stream_replicas", "duplicate_window", "request_timeout", "ping_interval",
            ]
        ),
        ("security", ["signing_key_path", "encrypt_messages", "encryption_key_path"]),
        ("outbox", ["path", "retention", "max_bytes", "synchronous", "audit"]),
        (
            "delivery",
            [
                "batch_size", "max_in_flight", "backoff_base", "backoff_max", "breaker_failure_threshold",
                "breaker_cooldown", "compression_min_bytes", "shutdown_timeout",
            ]
        ),
        (
            "monitoring",
            [
                "enable_metrics", "metrics_address", "metrics_port", "log_level", "log_format",
                "heartbeat_interval", "enable_dashboard", "dashboard_user", "dashboard_password_file",
                "dashboard_token_file",
            ]
        ),
        (
            "anomaly",
            [
                "enabled", "window", "mass_disconnect_percent", "mass_disconnect_min_agents",
                "flapping_transitions", "silence_after", "reregistration", "maintenance_windows", "stop_grace",
                "stop_max_per_window",
            ]
        ),
        ("rate_limit", ["per_agent", "window"]),
    ]

    /// Keys whose values are secrets: never echoed in errors or descriptions.
    public static let secretKeys: Set<String> = ["nats.password", "nats.token"]

    /// The environment variable that overrides `section.key`, e.g. `WAZUH_NATS_GATEWAY_NATS_URL`.
    public static func environmentVariable(section: String, key: String) -> String {
        self.environmentPrefix + section.uppercased() + "_" + key.uppercased()
    }

    static func keys(of section: String) -> [String] {
        self.sections.first { $0.name == section }?.keys ?? []
    }

    /// A "did you mean" hint for an unknown key: a close spelling in the same section, or the
    /// section where the key actually belongs. Empty when nothing is close.
    static func suggestion(forUnknownKey key: String, inSection section: String?) -> String {
        let candidates = section.map { self.keys(of: $0) } ?? self.sections.map(\.name)
        if let match = closestMatch(to: key, among: candidates) {
            return "; did you mean '\(match)'?"
        }
        if section != nil, let home = self.sections.first(where: { $0.keys.contains(key) }) {
            return "; '\(key)' belongs in section '\(home.name)'"
        }
        return ""
    }

    /// The closest candidate within an edit distance of about a third of the word (at least 2).
    static func closestMatch(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let limit = max(2, lowered.count / 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(lowered, candidate.lowercased())
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// Levenshtein distance counting an adjacent transposition as one edit.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
