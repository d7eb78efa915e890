/// The shape of global.db a simulated manager writes: one per Wazuh schema generation.
///
/// 4.x versions map to `metadata.db_version`: 4.1–4.2 → 2, 4.3 → 3, 4.4–4.5 → 4, 4.6–4.7 → 5,
/// 4.8–4.12 → 6, 4.13–4.14 → 7. 5.x has no agent 000 and no metadata version (`PRAGMA
/// user_version` instead), gains `os_type` and loses os_codename, os_build, os_uname, config_sum
/// and manager_host; the newer 5.x branches also lose merged_sum, node_name and group_config_status.
public enum SimulatedSchema: Sendable, Hashable, CustomStringConvertible {
    /// Wazuh 4.`minor` (1 … 14).
    case wazuh4(minor: Int)
    /// Wazuh 5.x, early branches (node_name still present).
    case wazuh5
    /// Wazuh 5.x, newer branches (no merged_sum, node_name, group_config_status).
    case wazuh5Minimal

    /// Parses `4.1` … `4.14`, `5`, `5.0`, `5-minimal`.
    public init?(versionString: String) {
        switch versionString {
        case "5", "5.0", "5.x": self = .wazuh5
        case "5-minimal", "5.x-minimal": self = .wazuh5Minimal
        default:
            let parts = versionString.split(separator: ".")
            guard parts.count == 2, parts[0] == "4", let minor = Int(parts[1]), (1...14).contains(minor) else {
                return nil
            }
            self = .wazuh4(minor: minor)
        }
    }

    /// `metadata.db_version` for 4.x, `nil` for 5.x.
    public var databaseVersion: Int? {
        guard case .wazuh4(let minor) = self else { return nil }
        switch minor {
        case ...2: return 2
        case 3: return 3
        case 4...5: return 4
        case 6...7: return 5
        case 8...12: return 6
        default: return 7
        }
    }

    /// `PRAGMA user_version` written for 5.x shapes (0 for 4.x, as Wazuh leaves it).
    public var userVersion: Int {
        switch self {
        case .wazuh4: 0
        case .wazuh5: 1
        case .wazuh5Minimal: 2
        }
    }

    /// Whether the manager's own row (agent 000) exists.
    public var hasManagerRow: Bool {
        if case .wazuh4 = self { return true }
        return false
    }

    public var hasDisconnectionTime: Bool { (databaseVersion ?? 7) >= 3 }
    public var hasStatusCode: Bool { (databaseVersion ?? 7) >= 5 }
    public var hasNodeName: Bool { self != .wazuh5Minimal }
    var hasGroupHash: Bool { (databaseVersion ?? 7) >= 4 }

    /// Agent keepalive (notify) interval of this version: 10 s up to 4.12, 20 s from 4.13.
    public var notifyInterval: Duration {
        if case .wazuh4(let minor) = self, minor <= 12 { return .seconds(10) }
        return .seconds(20)
    }

    public var description: String {
        switch self {
        case .wazuh4(let minor): "4.\(minor)"
        case .wazuh5: "5.x"
        case .wazuh5Minimal: "5.x-minimal"
        }
    }

    /// Columns of `agent`, in Wazuh's order, with their declarations.
    var agentColumns: [(name: String, declaration: String)] {
        var columns: [(String, String)] = [
            ("id", "INTEGER PRIMARY KEY"), ("name", "TEXT NOT NULL"), ("ip", "TEXT"), ("register_ip", "TEXT"),
            ("internal_key", "TEXT"), ("os_name", "TEXT"), ("os_version", "TEXT"), ("os_major", "TEXT"),
            ("os_minor", "TEXT"),
        ]
        let isFour = databaseVersion != nil
        if isFour {
            columns += [("os_codename", "TEXT"), ("os_build", "TEXT")]
        }
        columns.append(("os_platform", "TEXT"))
        if isFour { columns.append(("os_uname", "TEXT")) }
        columns.append(("os_arch", "TEXT"))
        if !isFour { columns.append(("os_type", "TEXT")) }
        columns.append(("version", "TEXT"))
        if isFour { columns.append(("config_sum", "TEXT")) }
        if self != .wazuh5Minimal { columns.append(("merged_sum", "TEXT")) }
        if isFour { columns.append(("manager_host", "TEXT")) }
        if hasNodeName { columns.append(("node_name", "TEXT DEFAULT 'unknown'")) }
        columns += [
            ("date_add", "INTEGER NOT NULL"), ("last_keepalive", "INTEGER"), ("`group`", "TEXT DEFAULT 'default'"),
        ]
        if hasGroupHash {
            columns += [
                ("group_hash", "TEXT DEFAULT NULL"), ("group_sync_status", "TEXT NOT NULL DEFAULT 'synced'"),
            ]
        }
        let syncValues =
            (databaseVersion ?? 7) >= 7
            ? "'synced','syncreq','syncreq_keepalive','syncreq_status'" : "'synced','syncreq'"
        columns += [
            ("sync_status", "TEXT NOT NULL DEFAULT 'synced' CHECK (sync_status IN (\(syncValues)))"),
            (
                "connection_status",
                "TEXT NOT NULL DEFAULT 'never_connected' "
                    + "CHECK (connection_status IN ('pending','never_connected','active','disconnected'))"
            ),
        ]
        if hasDisconnectionTime { columns.append(("disconnection_time", "INTEGER DEFAULT 0")) }
        if hasGroupHash && self != .wazuh5Minimal {
            columns.append(("group_config_status", "TEXT NOT NULL DEFAULT 'not synced'"))
        }
        if hasStatusCode { columns.append(("status_code", "INTEGER DEFAULT 0")) }
        return columns
    }

    /// The statements creating an empty database of this shape.
    var creationStatements: [String] {
        let agent = agentColumns.map { "\($0.name) \($0.declaration)" }.joined(separator: ", ")
        var statements = [
            "CREATE TABLE agent (\(agent))",
            "CREATE INDEX agent_name ON agent (name)",
            "CREATE INDEX agent_ip ON agent (ip)",
            "CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT)",
            "CREATE TABLE `group` (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE)",
            """
            CREATE TABLE belongs (id_agent INTEGER REFERENCES agent (id) ON DELETE CASCADE, \
            id_group INTEGER REFERENCES `group` (id) ON DELETE CASCADE, priority INTEGER NOT NULL DEFAULT 0, \
            UNIQUE (id_agent, priority), PRIMARY KEY (id_agent, id_group))
            """,
        ]
        if (databaseVersion ?? 7) >= 6 {
            statements.append(
                """
                CREATE TABLE labels (id INTEGER REFERENCES agent (id) ON DELETE CASCADE, key TEXT NOT NULL, \
                value TEXT NOT NULL, PRIMARY KEY (id, key))
                """)
        } else {
            statements.append(
                "CREATE TABLE labels (id INTEGER, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (id, key))")
        }
        if hasGroupHash {
            statements.append("CREATE INDEX agent_group_hash ON agent (group_hash)")
        }
        if let version = databaseVersion {
            statements.append("CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT)")
            statements.append("INSERT INTO metadata (key, value) VALUES ('db_version', '\(version)')")
        } else {
            statements.append("PRAGMA user_version = \(userVersion)")
        }
        statements.append("INSERT INTO `group` (name) VALUES ('default')")
        // The sites simulated agents belong to (``FleetProfile/groups(ofName:)``), ids 2 … in order.
        for site in FleetProfile.sites { statements.append("INSERT INTO `group` (name) VALUES ('\(site)')") }
        return statements
    }
}
