import Foundation
import GRDB

/// One journal for several managers: every manager's detection journals into the same outbox (one
/// sequence, one delivery worker, journal order), but each has its own source snapshot and its own
/// `meta` entries (anomaly and rate-limit state, baseline time), through a view scoped to it.
///
/// The unscoped store keeps the single-manager layout (`source_snapshot` row 1, unprefixed `meta`
/// keys), so a single-manager gateway resumes from what an older version journaled.
extension OutboxStore {
    /// A view of this store whose snapshot and `meta` calls read and write manager `node`'s own
    /// (`manager_snapshot` row `node`; `meta` keys under `manager/{node}/`). Messages, delivery
    /// state and the audit log are shared. The view shares the connection: close only the base store.
    public func scoped(toManager node: String) -> OutboxStore {
        OutboxStore(sharing: self, managerScope: node)
    }

    /// The `meta` key `key` stands for in this view.
    func metaKey(_ key: String) -> String {
        guard let scope = self.managerScope else { return key }
        return Self.metaPrefix(manager: scope) + key
    }

    /// `meta` keys of manager `node` start with this.
    static func metaPrefix(manager node: String) -> String { "manager/\(node)/" }

    /// `update` with this view's keys.
    func scopedMeta(_ update: MetaUpdate) -> MetaUpdate {
        guard self.managerScope != nil else { return update }
        var values: [String: String] = [:]
        for (key, value) in update.values { values[self.metaKey(key)] = value }
        return MetaUpdate(values: values, removed: update.removed.map(self.metaKey))
    }

    /// Replaces this view's snapshot inside a write transaction.
    func writeSnapshot(_ snapshot: [UInt8], at: Int64, db: Database) throws {
        guard let scope = self.managerScope else {
            try db.execute(
                sql: """
                    INSERT INTO source_snapshot (id, snapshot, updated_at) VALUES (1, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at
                    """,
                arguments: [Data(snapshot), at])
            return
        }
        try db.execute(
            sql: """
                INSERT INTO manager_snapshot (manager, snapshot, updated_at) VALUES (?, ?, ?)
                ON CONFLICT (manager) DO UPDATE SET snapshot = excluded.snapshot, updated_at = excluded.updated_at
                """,
            arguments: [scope, Data(snapshot), at])
    }

    /// This view's snapshot, read inside a transaction.
    func readSnapshot(db: Database) throws -> [UInt8]? {
        guard let scope = self.managerScope else {
            return try Data.fetchOne(db, sql: "SELECT snapshot FROM source_snapshot WHERE id = 1").map { [UInt8]($0) }
        }
        return try Data.fetchOne(db, sql: "SELECT snapshot FROM manager_snapshot WHERE manager = ?", arguments: [scope])
            .map { [UInt8]($0) }
    }
}
