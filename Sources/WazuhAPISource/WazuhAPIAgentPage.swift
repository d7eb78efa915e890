import Foundation
import WazuhSource

/// One page of `GET /agents`: the agents it holds, mapped to the same ``AgentRecord`` the
/// database readers produce, and the total the API reports.
///
/// The mapping follows global.db's columns one for one, so a transition read through the API
/// yields the same ``AgentChange`` (and event id) as read from the file:
/// `id` "001" → 1 (agent 000, the manager, is dropped) · `status` → `connection_status` ·
/// `lastKeepAlive`, `dateAdd`, `disconnection_time` (dates) → Unix seconds · `status_code` ·
/// `node_name` · `name` · `ip` · `group` (a list) → the `group` column's comma-separated text. A field
/// the API leaves out is `nil`, as a NULL column is.
public struct WazuhAPIAgentPage: Sendable {
    /// The agents of this page, in the API's order, agent 000 left out.
    public var records: [AgentRecord]
    /// Items in the page as sent (agent 000 included).
    public var itemCount: Int
    /// `data.total_affected_items`: agents matching the query across all pages.
    public var totalAffectedItems: Int

    /// The fields `GET /agents` is asked for (`select=`): only those the mapping reads.
    public static let selectedFields = [
        "id", "name", "ip", "status", "status_code", "lastKeepAlive", "dateAdd", "disconnection_time", "node_name",
        "group",
    ]

    /// Decodes the API's envelope `{"data":{"affected_items":[…],"total_affected_items":N},"error":0}`.
    /// - Throws: `DecodingError` or ``WazuhAPIAgentPage/Malformed`` when a needed field is missing or wrong.
    public init(json: some Collection<UInt8>) throws {
        let envelope = try JSONDecoder().decode(Envelope.self, from: Data(json))
        var records: [AgentRecord] = []
        records.reserveCapacity(envelope.data.affectedItems.count)
        for item in envelope.data.affectedItems {
            guard let id = Int(item.id), id >= 0 else { throw Malformed(field: "id") }
            if id == 0 { continue }
            guard let dateAdd = item.dateAdd.flatMap(WazuhAPITimestamp.epochSeconds) else {
                throw Malformed(field: "dateAdd")
            }
            records.append(
                AgentRecord(
                    id: id, name: item.name, ip: item.ip,
                    status: ConnectionStatus(databaseValue: item.status?.lowercased()),
                    lastKeepalive: try item.lastKeepAlive.map { text in
                        guard let seconds = WazuhAPITimestamp.epochSeconds(text) else {
                            throw Malformed(field: "lastKeepAlive")
                        }
                        return seconds
                    },
                    dateAdd: dateAdd, disconnectionTime: item.disconnectionTime?.seconds,
                    statusCode: item.statusCode, nodeName: item.nodeName,
                    groups: item.group.map { $0.joined(separator: ",") }))
        }
        self.records = records
        self.itemCount = envelope.data.affectedItems.count
        self.totalAffectedItems = envelope.data.totalAffectedItems
    }

    /// A needed field is absent or not in the expected form.
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        public var field: String
        public var description: String { "agent field \(field) missing or malformed" }
    }

    private struct Envelope: Decodable {
        struct Payload: Decodable {
            var affectedItems: [Item]
            var totalAffectedItems: Int

            enum CodingKeys: String, CodingKey {
                case affectedItems = "affected_items"
                case totalAffectedItems = "total_affected_items"
            }
        }
        var data: Payload
    }

    private struct Item: Decodable {
        var id: String
        var name: String
        var ip: String?
        var status: String?
        var statusCode: Int?
        var lastKeepAlive: String?
        var dateAdd: String?
        var disconnectionTime: FlexibleTime?
        var nodeName: String?
        var group: [String]?

        enum CodingKeys: String, CodingKey {
            case id, name, ip, status, lastKeepAlive, dateAdd, group
            case statusCode = "status_code"
            case disconnectionTime = "disconnection_time"
            case nodeName = "node_name"
        }
    }

    /// `disconnection_time` as a date string (the API's formatting) or as raw Unix seconds.
    private struct FlexibleTime: Decodable {
        var seconds: Int64

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                seconds = number
                return
            }
            let text = try container.decode(String.self)
            guard let parsed = WazuhAPITimestamp.epochSeconds(text) else {
                throw Malformed(field: "disconnection_time")
            }
            seconds = parsed
        }
    }
}
