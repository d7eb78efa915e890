import GRDB

/// `meta` entries to write and to delete in a journal transaction: the anomaly detector's and the rate
/// limiter's state, one entry per agent that changed.
public struct MetaUpdate: Sendable, Hashable {
    public var values: [String: String]
    public var removed: [String]

    public init(values: [String: String] = [:], removed: [String] = []) {
        self.values = values
        self.removed = removed
    }

    public var isEmpty: Bool { self.values.isEmpty && self.removed.isEmpty }
}

extension OutboxStore {
    /// Every `meta` entry whose key starts with one of `prefixes` (a range scan of the key index each);
    /// in a manager's view (``scoped(toManager:)``), that manager's entries under their own keys.
    public func metaValues(prefixes: [String]) throws(OutboxError) -> [String: String] {
        try self.run("metaValues") {
            try self.reading { db in
                var values: [String: String] = [:]
                let scopeLength = self.metaKey("").count
                for prefix in prefixes.map(self.metaKey) {
                    let rows = try Row.fetchCursor(
                        db, sql: "SELECT key, value FROM meta WHERE key >= ? AND key < ?",
                        arguments: [prefix, prefix + "\u{10FFFF}"])
                    while let row = try rows.next() {
                        let key: String = row[0]
                        values[String(key.dropFirst(scopeLength))] = row[1]
                    }
                }
                return values
            }
        }
    }

    static func writeMeta(_ update: MetaUpdate, db: Database) throws {
        try self.writeMeta(update.values, db: db)
        guard !update.removed.isEmpty else { return }
        let statement = try db.cachedStatement(sql: "DELETE FROM meta WHERE key = ?")
        for key in update.removed { try statement.execute(arguments: [key]) }
    }
}
