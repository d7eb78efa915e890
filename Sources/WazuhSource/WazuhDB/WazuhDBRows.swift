import Foundation

/// Decodes the JSON of wazuh-db's `ok`/`due` replies: an array of objects, one per row, keyed by
/// column name; wazuh-db leaves NULL columns out (an explicit `null` reads the same).
///
/// Pure; any unexpected shape is a `.malformedReply` naming it (never agent data).
public enum WazuhDBRows {
    /// One agent row as read from the socket, before it joins a snapshot.
    public struct Agent: Sendable, Hashable {
        public var id: Int
        public var name: String
        public var ip: String?
        public var connectionStatus: String?
        public var lastKeepalive: Int64?
        public var dateAdd: Int64
        public var disconnectionTime: Int64?
        public var statusCode: Int?
        public var nodeName: String?
        /// The `group` column (comma-separated group names), when selected and set.
        public var groups: String? = nil
    }

    /// The objects of a reply's JSON (an empty text is an empty array).
    public static func objects(_ json: [UInt8]) throws(WazuhSourceError) -> [[String: Any]] {
        if json.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [] }
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(json), options: [])
        } catch {
            throw WazuhSourceError(
                code: .malformedReply, path: nil,
                message: "wazuh-db's reply of \(json.count) bytes is not valid JSON (truncated at the size limit?)")
        }
        guard let array = value as? [Any] else {
            throw WazuhSourceError(code: .malformedReply, path: nil, message: "wazuh-db's reply is not a JSON array")
        }
        var objects: [[String: Any]] = []
        objects.reserveCapacity(array.count)
        for element in array {
            guard let object = element as? [String: Any] else {
                throw WazuhSourceError(
                    code: .malformedReply, path: nil, message: "wazuh-db's reply holds a row that is not an object")
            }
            objects.append(object)
        }
        return objects
    }

    /// The `id` of every row (for `get-all-agents` and `get-agents-by-connection-status`).
    public static func ids(_ json: [UInt8]) throws(WazuhSourceError) -> [Int] {
        try objects(json).map { (object) throws(WazuhSourceError) -> Int in
            guard let id = integer(object["id"]) else {
                throw WazuhSourceError(code: .malformedReply, path: nil, message: "a row of wazuh-db's reply has no id")
            }
            return Int(id)
        }
    }

    /// The `name` of every row (for the `pragma_table_info` query).
    public static func names(_ json: [UInt8]) throws(WazuhSourceError) -> [String] {
        try objects(json).compactMap { $0["name"] as? String }
    }

    /// Agent rows; `id`, `name` and `date_add` are required in each.
    public static func agents(_ json: [UInt8]) throws(WazuhSourceError) -> [Agent] {
        try objects(json).map { (object) throws(WazuhSourceError) -> Agent in
            guard let id = integer(object["id"]), let name = object["name"] as? String,
                let dateAdd = integer(object["date_add"])
            else {
                throw WazuhSourceError(
                    code: .malformedReply, path: nil,
                    message: "an agent row of wazuh-db's reply lacks id, name or date_add")
            }
            return Agent(
                id: Int(id), name: name, ip: object["ip"] as? String,
                connectionStatus: object["connection_status"] as? String,
                lastKeepalive: integer(object["last_keepalive"]), dateAdd: dateAdd,
                disconnectionTime: integer(object["disconnection_time"]),
                statusCode: integer(object["status_code"]).map { Int(truncatingIfNeeded: $0) },
                nodeName: object["node_name"] as? String, groups: object["group"] as? String)
        }
    }

    /// A JSON number (or a numeric string, as SQLite may hand back TEXT) as an integer.
    static func integer(_ value: Any?) -> Int64? {
        switch value {
        case let number as Int: return Int64(number)
        case let number as Int64: return number
        case let number as Double:
            return number.isFinite && abs(number) < 9.2e18 && number.rounded() == number ? Int64(number) : nil
        case let number as NSNumber: return number.int64Value
        case let text as String: return Int64(text)
        default: return nil
        }
    }
}
