import Foundation
import GRDB

/// `GET /agents` of the simulated API: rows of the simulator's `agent` table (its open transaction
/// included, as the real API asks wazuh-db) in the real API's envelope and field names.
///
/// global.db column → API field: `id` → `"id":"001"` · `name` · `ip` · `register_ip` → `registerIP` ·
/// `connection_status` → `status` · `status_code` · `last_keepalive` → `lastKeepAlive` · `date_add` →
/// `dateAdd` · `disconnection_time` · `node_name` · `group` → list · `version` · `manager_host` →
/// `manager`. Dates are formatted `2024-05-01T10:00:00Z`; NULL columns (and columns the schema
/// lacks) are left out. Agent 000 is listed, as the real API does.
enum SimulatedAPIAgents {
    /// Fields `select=` accepts.
    static let fields: Set<String> = [
        "id", "name", "ip", "registerIP", "status", "status_code", "lastKeepAlive", "dateAdd", "disconnection_time",
        "node_name", "group", "version", "manager",
    ]

    /// The JSON body for one page. - Throws: database errors.
    static func page(database: DatabaseQueue, select: Set<String>, offset: Int, limit: Int) throws -> [UInt8] {
        try database.inDatabase { db in
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM agent") ?? 0
            let rows = try Row.fetchCursor(
                db, sql: "SELECT * FROM agent ORDER BY id LIMIT ? OFFSET ?", arguments: [limit, offset])
            var out: [UInt8] = []
            out.reserveCapacity(limit * 200)
            out.append(contentsOf: #"{"data":{"affected_items":["#.utf8)
            var first = true
            while let row = try rows.next() {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                append(row, select: select, to: &out)
            }
            out.append(
                contentsOf: #"],"total_affected_items":\#(total),"total_failed_items":0,"failed_items":[]},"#.utf8)
            out.append(contentsOf: #""message":"All selected agents information was returned","error":0}"#.utf8)
            return out
        }
    }

    private static func append(_ row: Row, select: Set<String>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var separator = false
        func key(_ name: String) {
            if separator { out.append(UInt8(ascii: ",")) }
            separator = true
            quote(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        func text(_ field: String, _ column: String) {
            guard select.contains(field), row.hasColumn(column), let value: String = row[column] else { return }
            key(field)
            quote(value, into: &out)
        }
        func date(_ field: String, _ column: String) {
            guard select.contains(field), row.hasColumn(column), let value: Int64 = row[column] else { return }
            key(field)
            quote(format(epochSeconds: value), into: &out)
        }
        let id: Int = row["id"]
        key("id")
        quote(id < 1000 ? String(repeating: "0", count: 3 - String(id).count) + String(id) : String(id), into: &out)
        text("name", "name")
        text("ip", "ip")
        text("registerIP", "register_ip")
        text("status", "connection_status")
        if select.contains("status_code"), row.hasColumn("status_code"), let code: Int = row["status_code"] {
            key("status_code")
            out.append(contentsOf: String(code).utf8)
        }
        date("lastKeepAlive", "last_keepalive")
        date("dateAdd", "date_add")
        date("disconnection_time", "disconnection_time")
        text("node_name", "node_name")
        text("version", "version")
        text("manager", "manager_host")
        if select.contains("group"), row.hasColumn("group"), let groups: String = row["group"] {
            key("group")
            out.append(UInt8(ascii: "["))
            for (index, group) in groups.split(separator: ",").enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                quote(String(group), into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (UTC) of Unix seconds.
    static func format(epochSeconds: Int64) -> String {
        var time = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(parts.tm_year + 1900)
        return "\(year)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):"
            + "\(two(parts.tm_sec))Z"
    }

    static func quote(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20: out.append(contentsOf: String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
