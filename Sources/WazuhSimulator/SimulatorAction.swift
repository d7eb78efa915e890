import Foundation
import GRDB

/// One thing that happens on a Wazuh manager, written the way wazuh-db writes it.
public enum SimulatorAction: Sendable, Hashable {
    /// A keepalive from an agent: `last_keepalive = now`; a pending agent becomes active.
    case keepalive(agentID: Int)
    /// A keepalive from every active agent at once (one notify interval's worth).
    case keepaliveAll
    /// The agent's start-up message: disconnected/never_connected → pending.
    case connect(agentID: Int)
    /// The first keepalive after start-up: pending → active.
    case activate(agentID: Int)
    /// The agent stopped gracefully: → disconnected, `status_code` 3.
    case stop(agentID: Int)
    /// No keepalive for too long: → disconnected, `status_code` 4.
    case keepaliveTimeout(agentID: Int)
    /// The manager restarted: every active/pending agent → disconnected, `status_code` 5, at once.
    /// When driven by ``WazuhSimulator/run(_:until:)``, each agent then returns (pending, then active)
    /// at a random moment within `reconnectPeriod`.
    case restartStorm
    /// A new agent (next free id) with a generated name.
    case register
    /// A new agent with exactly this name (hostile names included).
    case registerNamed(String)
    /// A new agent whose name is these raw bytes stored as TEXT (may be invalid UTF-8).
    case registerRawName([UInt8])
    /// The agent is deleted.
    case remove(agentID: Int)
    /// The agent is deleted and registered again under the same id, with a later `date_add`.
    case reRegister(agentID: Int)
    /// `status_code` changes alone (version errors 1, 2), status unchanged.
    case setStatusCode(agentID: Int, code: Int)
}

extension WazuhSimulator {
    /// Writes `action` in the open write transaction (it becomes visible to readers at the next commit).
    /// - Returns: the id of a registered agent, else the affected agent id (`nil` for fleet-wide actions).
    @discardableResult
    public func apply(_ action: SimulatorAction) throws -> Int? {
        let schema = configuration.schema
        switch action {
        case .keepalive(let id):
            guard let agent = agents[id] else { return nil }
            if agent.status == "pending" { return try apply(.activate(agentID: id)) }
            try write { db in
                try db.execute(
                    sql: "UPDATE agent SET last_keepalive = ?, sync_status = 'synced' WHERE id = ?",
                    arguments: [now, id])
            }
            agents[id]?.lastKeepalive = now
            return id
        case .keepaliveAll:
            try write { db in
                try db.execute(
                    sql: "UPDATE agent SET last_keepalive = ? WHERE id > 0 AND connection_status = 'active'",
                    arguments: [now])
            }
            for (id, agent) in agents where agent.status == "active" {
                agents[id]?.lastKeepalive = now
            }
            return nil
        case .connect(let id):
            guard agents[id] != nil else { return nil }
            try setConnection(id, status: "pending", disconnectionTime: 0, code: 0, keepalive: now)
            return id
        case .activate(let id):
            guard agents[id] != nil else { return nil }
            try setConnection(id, status: "active", disconnectionTime: 0, code: 0, keepalive: now)
            return id
        case .stop(let id):
            guard agents[id] != nil else { return nil }
            try setConnection(id, status: "disconnected", disconnectionTime: now, code: 3, keepalive: nil)
            return id
        case .keepaliveTimeout(let id):
            guard agents[id] != nil else { return nil }
            try setConnection(id, status: "disconnected", disconnectionTime: now, code: 4, keepalive: nil)
            return id
        case .restartStorm:
            var assignments = "connection_status = 'disconnected'"
            if schema.hasDisconnectionTime { assignments += ", disconnection_time = \(now)" }
            if schema.hasStatusCode { assignments += ", status_code = 5" }
            try write { db in
                try db.execute(
                    sql: "UPDATE agent SET \(assignments) WHERE id > 0 AND connection_status IN ('active', 'pending')")
            }
            let written = Self.wallMilliseconds()
            for (id, agent) in agents where agent.status == "active" || agent.status == "pending" {
                agents[id]?.statusWrittenAtMilliseconds = written
                agents[id]?.status = "disconnected"
                agents[id]?.disconnectionTime = now
                agents[id]?.statusCode = 5
            }
            return nil
        case .register:
            let id = nextID
            return try insert(id: id, name: FleetProfile.name(id: id, random: &random), rawName: nil)
        case .registerNamed(let name):
            return try insert(id: nextID, name: name, rawName: nil)
        case .registerRawName(let bytes):
            return try insert(id: nextID, name: String(decoding: bytes, as: UTF8.self), rawName: bytes)
        case .remove(let id):
            guard agents[id] != nil else { return nil }
            try write { db in
                try db.execute(sql: "DELETE FROM belongs WHERE id_agent = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM labels WHERE id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM agent WHERE id = ?", arguments: [id])
            }
            agents[id] = nil
            schedule.removeAll { $0.agentID == id }
            return id
        case .reRegister(let id):
            guard let old = agents[id] else { return nil }
            try apply(.remove(agentID: id))
            if now <= old.dateAdd { now = old.dateAdd + 1 }
            return try insert(id: id, name: old.name, rawName: nil)
        case .setStatusCode(let id, let code):
            guard agents[id] != nil, schema.hasStatusCode else { return nil }
            try write { db in
                try db.execute(sql: "UPDATE agent SET status_code = ? WHERE id = ?", arguments: [code, id])
            }
            agents[id]?.statusCode = code
            return id
        }
    }

    private func setConnection(
        _ id: Int, status: String, disconnectionTime: Int64, code: Int, keepalive: Int64?
    ) throws {
        let schema = configuration.schema
        var assignments = ["connection_status = ?"]
        var arguments: [(any DatabaseValueConvertible)?] = [status]
        if let keepalive {
            assignments.append("last_keepalive = ?")
            arguments.append(keepalive)
        }
        if schema.hasDisconnectionTime {
            assignments.append("disconnection_time = ?")
            arguments.append(disconnectionTime)
        }
        if schema.hasStatusCode {
            assignments.append("status_code = ?")
            arguments.append(code)
        }
        arguments.append(id)
        let sql = "UPDATE agent SET \(assignments.joined(separator: ", ")) WHERE id = ?"
        try write { db in
            try db.execute(sql: sql, arguments: StatementArguments(arguments))
        }
        agents[id]?.status = status
        agents[id]?.statusWrittenAtMilliseconds = Self.wallMilliseconds()
        agents[id]?.disconnectionTime = disconnectionTime
        agents[id]?.statusCode = code
        if let keepalive { agents[id]?.lastKeepalive = keepalive }
    }

    /// Inserts one never-connected agent.
    private func insert(id: Int, name: String, rawName: [UInt8]?) throws -> Int {
        let node = configuration.clusterNodes[id % configuration.clusterNodes.count]
        let key = FleetProfile.key(random: &random)
        let ip = FleetProfile.ip(id: id)
        var columns = ["id", "name", "ip", "register_ip", "internal_key", "date_add", "connection_status"]
        var arguments: [(any DatabaseValueConvertible)?] = [
            id, rawName.map { Data($0) } ?? name, ip, "any", key, now, "never_connected",
        ]
        if configuration.schema.hasNodeName {
            columns.append("node_name")
            arguments.append(node)
        }
        let placeholders = columns.indices.map { $0 == 1 && rawName != nil ? "CAST(? AS TEXT)" : "?" }
        let sql =
            "INSERT INTO agent (\(columns.joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", ")))"
        try write { db in
            try db.execute(sql: sql, arguments: StatementArguments(arguments))
            try db.execute(sql: "INSERT INTO belongs (id_agent, id_group, priority) VALUES (?, 1, 0)", arguments: [id])
        }
        agents[id] = SimulatedAgent(
            id: id, name: name, status: "never_connected", dateAdd: now, lastKeepalive: nil, disconnectionTime: 0,
            statusCode: 0, nodeName: node, statusWrittenAtMilliseconds: Self.wallMilliseconds())
        nextID = max(nextID, id + 1)
        return id
    }

    /// Creates the initial fleet with a realistic mix of statuses and OS data.
    func populate(count: Int) throws {
        guard count > 0 else { return }
        let schema = configuration.schema
        let columns = schema.agentColumns.map(\.name)
        func has(_ column: String) -> Bool { columns.contains(column) }
        let notify = Int64(notifyInterval.components.seconds)
        try write { db in
            var names = [
                "id", "name", "ip", "register_ip", "internal_key", "os_name", "os_version", "os_major", "os_minor",
                "os_platform", "os_arch", "version", "date_add", "last_keepalive", "connection_status",
            ]
            for optional in ["os_codename", "os_type", "node_name", "disconnection_time", "status_code"]
            where has(optional) {
                names.append(optional)
            }
            let sql =
                "INSERT INTO agent (\(names.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", ")))"
            let statement = try db.cachedStatement(sql: sql)
            let belongs = try db.cachedStatement(
                sql: "INSERT INTO belongs (id_agent, id_group, priority) VALUES (?, 1, 0)")
            for id in nextID..<(nextID + count) {
                let os = FleetProfile.systems[Int.random(in: 0..<FleetProfile.systems.count, using: &random)]
                let roll = Double.random(in: 0..<1, using: &random)
                let dateAdd = now - Int64.random(in: 3_600...(86_400 * 365), using: &random)
                let status: String
                var keepalive: Int64? = now - Int64.random(in: 0..<max(notify, 1), using: &random)
                var disconnection: Int64 = 0
                var code = 0
                let rest = 1 - configuration.initiallyActive
                if roll < configuration.initiallyActive {
                    status = "active"
                } else if roll < configuration.initiallyActive + rest * 0.5 {
                    status = "disconnected"
                    disconnection = now - Int64.random(in: 600...(86_400 * 30), using: &random)
                    keepalive = disconnection - Int64.random(in: 0...900, using: &random)
                    code = Bool.random(using: &random) ? 3 : 4
                } else if roll < configuration.initiallyActive + rest * 0.8 {
                    status = "never_connected"
                    keepalive = nil
                } else {
                    status = "pending"
                }
                let name = FleetProfile.name(id: id, random: &random)
                let node = configuration.clusterNodes[id % configuration.clusterNodes.count]
                var values: [(any DatabaseValueConvertible)?] = [
                    id, name, FleetProfile.ip(id: id), "any", FleetProfile.key(random: &random),
                    status == "never_connected" ? nil : os.name, status == "never_connected" ? nil : os.version,
                    os.major, os.minor, os.platform, os.arch, "Wazuh v\(schema)", dateAdd, keepalive, status,
                ]
                if has("os_codename") { values.append(os.codename) }
                if has("os_type") { values.append(os.type) }
                if has("node_name") { values.append(node) }
                if has("disconnection_time") { values.append(disconnection) }
                if has("status_code") { values.append(code) }
                try statement.execute(arguments: StatementArguments(values))
                try belongs.execute(arguments: [id])
                agents[id] = SimulatedAgent(
                    id: id, name: name, status: status, dateAdd: dateAdd, lastKeepalive: keepalive,
                    disconnectionTime: disconnection, statusCode: code, nodeName: node)
                if status == "pending" { scheduleActivation(agentID: id) }
            }
        }
        nextID += count
    }
}

extension WazuhSimulator {
    /// The wall clock in Unix milliseconds (when a write happened, for the ground-truth log).
    static func wallMilliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
