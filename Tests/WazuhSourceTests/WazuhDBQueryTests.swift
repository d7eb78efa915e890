import Testing
import WazuhSource

/// The request builder can only say read-only things, and never asks for `internal_key`.
@Suite struct WazuhDBQueryTests {
    /// Every request the builder can express: each kind, every subset of columns, edge integers.
    static func everyBuildableQuery() -> [WazuhDBQuery] {
        let columns = WazuhDBQuery.Column.allCases
        let integers = [Int.min, -1, 0, 1, 999, Int(Int32.max), Int.max]
        var queries: [WazuhDBQuery] = [.agentTableColumns]
        for mask in 0..<(1 << columns.count) {
            let subset = columns.enumerated().filter { mask & (1 << $0.offset) != 0 }.map(\.element)
            for after in integers {
                queries.append(.agents(columns: subset, after: after, limit: 256))
                queries.append(.agents(columns: subset.reversed() + subset, after: 0, limit: after))
            }
        }
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
            #expect(query.bytes.count < 1024)
        }
    }

    @Test func agentQueriesSelectIDFirstAndStayAboveAgentZero() {
        let query = WazuhDBQuery.agents(columns: [.name, .id, .name], after: -5, limit: 0)
        #expect(query.text == "global sql SELECT id,name FROM agent WHERE id > 0 ORDER BY id LIMIT 1")
        #expect(
            WazuhDBQuery.agentIDs(lastID: 7, status: .neverConnected).text
                == "global get-agents-by-connection-status 7 never_connected")
        #expect(WazuhDBQuery.allAgentIDs(lastID: 12).text == "global get-all-agents last_id 12")
    }
}
