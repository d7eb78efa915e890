/// What a reader found out about a global.db's schema.
///
/// Wazuh 4.x records its schema version in `metadata.db_version` (2 = 4.1 … 7 = 4.13+); 5.x uses
/// `PRAGMA user_version` instead. The columns actually present (`PRAGMA table_info(agent)`) decide
/// what is read: absent optional columns read as `nil`.
public struct GlobalDatabaseSchema: Sendable, Hashable, CustomStringConvertible {
    /// The manager generation, as told by where the schema version is kept.
    public enum Generation: Sendable, Hashable {
        /// 4.x: `metadata.db_version` (may be `nil` if the row is missing or not a number).
        case wazuh4(dbVersion: Int?)
        /// 5.x: no `metadata.db_version`; `PRAGMA user_version`.
        case wazuh5(userVersion: Int)
    }

    public var generation: Generation
    /// Every column of the `agent` table, lower-cased, in table order.
    public var columns: [String]

    public init(generation: Generation, columns: [String]) {
        self.generation = generation
        self.columns = columns.map { $0.lowercased() }
    }

    public func has(_ column: String) -> Bool { columns.contains(column.lowercased()) }

    /// `ip` is read (else `nil`).
    public var hasIP: Bool { has("ip") }
    /// `last_keepalive` is read (else `nil`).
    public var hasLastKeepalive: Bool { has("last_keepalive") }
    /// `disconnection_time` exists (4.3+).
    public var hasDisconnectionTime: Bool { has("disconnection_time") }
    /// `status_code` exists (4.6+).
    public var hasStatusCode: Bool { has("status_code") }
    /// `node_name` exists (all 4.x, older 5.x).
    public var hasNodeName: Bool { has("node_name") }

    /// The required columns missing from `agent` (`id`, `name`, `connection_status`, `date_add`).
    public var missingRequiredColumns: [String] {
        ["id", "name", "connection_status", "date_add"].filter { !has($0) }
    }

    /// The SELECT of a full read: every agent with every field the reader keeps. Optional columns
    /// absent from this schema become NULL. `internal_key` is never selected; agent 000 is excluded.
    var agentQuery: String { "SELECT \(agentColumns) FROM agent WHERE id > 0 ORDER BY id" }

    /// The same columns for one agent (`?1` = its id).
    var agentByIDQuery: String { "SELECT \(agentColumns) FROM agent WHERE id = ?1 AND id > 0" }

    /// The SELECT of an incremental read: only what decides whether an agent changed (id, status,
    /// registration time, disconnection time).
    var agentKeyQuery: String {
        "SELECT id, connection_status, date_add, \(optional("disconnection_time")) FROM agent WHERE id > 0 ORDER BY id"
    }

    private var agentColumns: String {
        "id, name, \(optional("ip")), connection_status, \(optional("last_keepalive")), date_add, "
            + "\(optional("disconnection_time")), \(optional("status_code")), \(optional("node_name"))"
    }

    private func optional(_ column: String) -> String { has(column) ? column : "NULL" }

    public var description: String {
        switch generation {
        case .wazuh4(let version): "Wazuh 4.x schema (db_version \(version.map(String.init) ?? "unknown"))"
        case .wazuh5(let version): "Wazuh 5.x schema (user_version \(version))"
        }
    }
}

extension GlobalDatabaseSchema {
    /// Reads the schema of the database `connection` is open on (inside the caller's transaction).
    static func detect(_ connection: SQLiteReadConnection) throws(WazuhSourceError) -> GlobalDatabaseSchema {
        var columns: [String] = []
        try connection.forEachRow("PRAGMA table_info(agent)") { row in
            if let name = row.columnBytes(1) {
                columns.append(String(decoding: name, as: UTF8.self))
            }
        }
        guard !columns.isEmpty else {
            throw WazuhSourceError(
                code: .notAWazuhDatabase, path: connection.path, message: "the database has no agent table")
        }
        var hasMetadata = false
        try connection.forEachRow("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'metadata'") { _ in
            hasMetadata = true
        }
        let generation: GlobalDatabaseSchema.Generation
        if hasMetadata {
            var version: Int?
            try connection.forEachRow("SELECT value FROM metadata WHERE key = 'db_version'") { row in
                if let bytes = row.columnBytes(0) {
                    version = Int(String(decoding: bytes, as: UTF8.self))
                }
            }
            generation = .wazuh4(dbVersion: version)
        } else {
            generation = .wazuh5(userVersion: Int(try connection.integer("PRAGMA user_version") ?? 0))
        }
        let schema = GlobalDatabaseSchema(generation: generation, columns: columns)
        let missing = schema.missingRequiredColumns
        guard missing.isEmpty else {
            throw WazuhSourceError(
                code: .notAWazuhDatabase, path: connection.path,
                message: "the agent table lacks \(missing.joined(separator: ", ")) (Wazuh before 4.1 is unsupported)")
        }
        return schema
    }
}
