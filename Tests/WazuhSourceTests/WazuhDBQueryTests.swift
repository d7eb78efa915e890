import Testing
import WazuhSource

/// The request builder can only say read-only things, and never asks for `internal_key`.
@Suite struct WazuhDBQueryTests {
    /// Every request the builder can express: each kind, every subset of columns, edge integers.
    static func everyBuildableQuery() -> [WazuhDBQuery] {
        let columns = WazuhDBQuery.Column.allCases
        let integers = [Int.min, -1, 0, 1, 999, Int(Int32.max), Int.max]
        var queries: [WazuhDBQuery] = [.agentTableColumns]
        let times: [Int64] = [Int64.min, -1, 0, 1_700_000_000, Int64.max]
        for mask in 0..<(1 << columns.count) {
            let subset = columns.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            for after in integers {
                queries.append(.agents(columns: subset, after: after, limit: 256))
                queries.append(.agents(columns: subset.reversed() + subset, after: 0, limit: after))
            }
            for time in times {
                let ids: [Int32] = [Int32.min, -1, 0, 1, Int32.max]
                queries.append(
                    .changedAgents(columns: subset, since: time, ids: ids, after: Int(time % 1000), limit: 9))
                queries.append(.changedAgents(columns: subset, since: time, ids: [], after: 0, limit: 9))
                queries.append(.activeAgents(columns: subset, since: time, after: Int(time % 1000), limit: 9))
            }
        }
        for time in times {
            queries.append(.agentCensus(ceiling: time))
            queries.append(.agentCensus(ceiling: time, statusCodes: false))
        }
        // The longest id list, of the longest ids, with every column.
        queries.append(
            .changedAgents(
                columns: columns, since: Int64.min, ids: (0..<5000).map { Int32.max - Int32($0) }, after: Int.max,
                limit: Int.max))
        for id in integers {
            queries.append(.allAgentIDs(lastID: id))
            for status in WazuhDBQuery.Status.allCases { queries.append(.agentIDs(lastID: id, status: status)) }
        }
        return queries
    }

    @Test func noBuildableQueryWrites() {
        let writing = [
            "insert", "update", "delete", "replace", "drop", "alter", "create", "attach", "detach", "pragma ",
            "vacuum", "reindex", "begin", "commit", ";", "--", "/*", "update-", "disconnect-", "reset-", "set-",
            "insert-", "delete-",
        ]
        let allowedStarts = [
            "global sql SELECT ", "global get-all-agents last_id ", "global get-agents-by-connection-status ",
        ]
        for query in Self.everyBuildableQuery() {
            let text = query.text
            #expect(allowedStarts.contains { text.hasPrefix($0) }, "\(text)")
            let lowered = text.lowercased()
            for word in writing {
                #expect(!lowered.contains(word), "\(text) contains \(word)")
            }
            #expect(!lowered.contains("internal_key"))
            #expect(!lowered.contains("get-agent-info"))
            #expect(query.bytes.count < WazuhDBFrame.maximumPayload)
        }
    }

    @Test func agentQueriesSelectIDFirstAndStayAboveAgentZero() {
        let query = WazuhDBQuery.agents(columns: [.name, .id, .name], after: -5, limit: 0)
        #expect(query.text == "global sql SELECT id,name FROM agent WHERE id > 0 ORDER BY id LIMIT 1")
        #expect(
            WazuhDBQuery.agentIDs(lastID: 7, status: .neverConnected).text
                == "global get-agents-by-connection-status 7 never_connected")
        #expect(WazuhDBQuery.allAgentIDs(lastID: 12).text == "global get-all-agents last_id 12")
        #expect(
            WazuhDBQuery.changedAgents(columns: [.name], since: 200, ids: [9, -3, 4, 9], after: -1, limit: 0).text
                == "global sql SELECT id,name FROM agent WHERE id > 0 AND (disconnection_time >= 200"
                + " OR date_add >= 200 OR connection_status = 'pending' OR id IN (4,9)) ORDER BY id LIMIT 1")
        #expect(
            WazuhDBQuery.changedAgents(columns: [], since: 5, ids: (1...5000).map { Int32($0) }, after: 0, limit: 9)
                .text.hasSuffix(",4096)) ORDER BY id LIMIT 9"))
        #expect(
            WazuhDBQuery.activeAgents(columns: [.id], since: 7, after: 3, limit: 10).text
                == "global sql SELECT id FROM agent WHERE id > 3 AND connection_status = 'active'"
                + " AND last_keepalive >= 7 ORDER BY id LIMIT 10")
        #expect(
            WazuhDBQuery.agentCensus(ceiling: 99).text
                == "global sql SELECT connection_status AS status,count(*) AS agents,max(max("
                + "CASE WHEN last_keepalive <= 99 THEN last_keepalive ELSE 0 END,"
                + "CASE WHEN disconnection_time <= 99 THEN disconnection_time ELSE 0 END,"
                + "CASE WHEN date_add <= 99 THEN date_add ELSE 0 END)) AS newest,sum(id) AS ids,"
                + "sum(id*ifnull(status_code,0)) AS codes FROM agent WHERE id > 0 GROUP BY connection_status")
        #expect(
            WazuhDBQuery.agentCensus(ceiling: 99, statusCodes: false).text.hasSuffix(
                "AS newest,sum(id) AS ids FROM agent WHERE id > 0 GROUP BY connection_status"))
    }
}
