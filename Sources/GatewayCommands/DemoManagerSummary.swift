/// The demo's per-manager summary: agent events journaled by each manager, told apart by the
/// manager scope of their event ids (`…@demo-manager-2`; an id without one is the single manager's).
enum DemoManagerSummary {
    /// Counts `eventIDs` by the manager after their last `@`; unscoped ids count for `unscopedNode`.
    static func eventsByManager(_ eventIDs: [String], unscopedNode: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for id in eventIDs {
            let node = id.lastIndex(of: "@").map { String(id[id.index(after: $0)...]) } ?? unscopedNode
            counts[node, default: 0] += 1
        }
        return counts
    }

    /// `demo: events by manager: demo-manager 37, demo-manager-2 35`.
    static func line(_ counts: [String: Int]) -> String {
        let parts = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "demo: events by manager: " + (parts.isEmpty ? "none" : parts.joined(separator: ", "))
    }
}
