import GRDB
import Logging
import WazuhSource

/// How the simulator's wazuh-db socket answers one command (see ``WazuhDBSocketServer``).
struct WazuhDBCommandAnswer {
    let database: DatabaseQueue

    /// Room for the `ok `/`due ` prefix inside the 64 KiB frame.
    static let jsonBudget = WazuhDBFrame.maximumPayload - 8

    func reply(to command: String) -> [UInt8] {
        let words = command.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard words.count >= 2, words[0] == "global" else {
            return Array("err Invalid DB query syntax, near '\(command.prefix(32))'".utf8)
        }
        let rest = words.count > 2 ? String(words[2]) : ""
        switch words[1] {
        case "sql":
            return sql(rest)
        case "get-all-agents":
            let parts = rest.split(separator: " ")
            guard parts.count == 2, parts[0] == "last_id", let lastID = Int(parts[1]) else {
                return Array("err Invalid arguments for get-all-agents".utf8)
            }
            return ids(sql: "SELECT id FROM agent WHERE id > ? ORDER BY id", arguments: [lastID])
        case "get-agents-by-connection-status":
            let parts = rest.split(separator: " ")
            guard parts.count == 2, let lastID = Int(parts[0]) else {
                return Array("err Invalid arguments for get-agents-by-connection-status".utf8)
            }
            return ids(
                sql: "SELECT id FROM agent WHERE id > ? AND connection_status = ? ORDER BY id",
                arguments: [lastID, String(parts[1])])
        default:
            return Array("err the simulator answers only read-only commands; refused '\(words[1])'".utf8)
        }
    }

    private func sql(_ text: String) -> [UInt8] {
        do {
            return try database.inDatabase { db -> [UInt8] in
                let statement = try db.makeStatement(sql: text)
                guard statement.isReadonly else {
                    return Array("err the simulator refuses writing SQL".utf8)
                }
                var json: [UInt8] = Array("ok [".utf8)
                var first = true
                let rows = try Row.fetchCursor(statement)
                while let row = try rows.next() {
                    if !first { json.append(UInt8(ascii: ",")) }
                    json.append(UInt8(ascii: "{"))
                    first = false
                    var firstColumn = true
                    for (column, value) in row {
                        let encoded: [UInt8]
                        switch value.storage {
                        case .null: continue
                        case .int64(let number): encoded = Array(String(number).utf8)
                        case .double(let number): encoded = Array(String(number).utf8)
                        case .string(let string): encoded = Self.quoted(Array(string.utf8))
                        case .blob(let data): encoded = Self.quoted(Array(data))
                        }
                        if !firstColumn { json.append(UInt8(ascii: ",")) }
                        firstColumn = false
                        json += Self.quoted(Array(column.utf8))
                        json.append(UInt8(ascii: ":"))
                        json += encoded
                    }
                    json.append(UInt8(ascii: "}"))
                    // wazuh-db's reply buffer is 64 KiB: what does not fit is cut off.
                    if json.count > WazuhDBFrame.maximumPayload {
                        return Array(json.prefix(WazuhDBFrame.maximumPayload))
                    }
                }
                json.append(UInt8(ascii: "]"))
                return json
            }
        } catch {
            return Array("err Cannot execute SQL query; \(error)".utf8.prefix(512))
        }
    }

    private func ids(sql: String, arguments: StatementArguments) -> [UInt8] {
        do {
            return try database.inDatabase { db -> [UInt8] in
                let ids = try Int.fetchCursor(db, sql: sql, arguments: arguments)
                var json: [UInt8] = Array("[".utf8)
                while let id = try ids.next() {
                    let item = Array("{\"id\":\(id)}".utf8)
                    if json.count + item.count + 2 > Self.jsonBudget {
                        json.append(UInt8(ascii: "]"))
                        return Array("due ".utf8) + json
                    }
                    if json.count > 1 { json.append(UInt8(ascii: ",")) }
                    json += item
                }
                json.append(UInt8(ascii: "]"))
                return Array("ok ".utf8) + json
            }
        } catch {
            return Array("err Cannot execute SQL query; \(error)".utf8.prefix(512))
        }
    }

    /// A JSON string of raw bytes: quotes, backslashes and control bytes escaped; other bytes as they are
    /// (like wazuh-db's cJSON, which does not check UTF-8).
    static func quoted(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(bytes.count + 2)
        let hex = Array("0123456789abcdef".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20:
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }
}

extension WazuhSimulator {
    /// Serves wazuh-db's socket at `path` (normally `queue/db/wdb` beside global.db), answering from
    /// this simulator's connection, open transaction included. Stop it with ``WazuhDBSocketServer/stop()``.
    public func serveWazuhDB(at path: String, logger: Logger? = nil) throws -> WazuhDBSocketServer {
        try WazuhDBSocketServer(path: path, database: database, logger: logger ?? self.logger)
    }
}
