import GRDB
import WazuhSource

/// Agent statuses as global.db holds them, read by the checker itself (read-only, one short read).
public enum FinalStatuses {
    /// Agent id → wire status (`Active`, …) of every agent but 000.
    public static func read(databasePath: String) throws -> [Int: String] {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: databasePath, configuration: configuration)
        defer { try? queue.close() }
        return try queue.read { db in
            var statuses: [Int: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, connection_status FROM agent WHERE id > 0") {
                let status: String? = row["connection_status"]
                statuses[row["id"]] = ConnectionStatus(databaseValue: status).rawValue
            }
            return statuses
        }
    }
}
