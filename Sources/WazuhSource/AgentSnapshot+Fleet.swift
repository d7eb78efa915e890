extension AgentSnapshot {
    /// How many agents report to each cluster node (`nil` key: agents without a node name), counted
    /// from the compact entries without decoding any record.
    public var agentsPerNode: [String?: Int] {
        var byIndex = [Int](repeating: 0, count: self.nodeNames.count)
        var withoutNode = 0
        for entry in self.entries {
            if entry.nodeIndex == Entry.noNode {
                withoutNode += 1
            } else {
                byIndex[Int(entry.nodeIndex)] += 1
            }
        }
        var result: [String?: Int] = [:]
        for (index, count) in byIndex.enumerated() where count > 0 {
            result[self.nodeNames[index], default: 0] += count
        }
        if withoutNode > 0 { result[nil] = withoutNode }
        return result
    }

    /// The latest `last_keepalive` of any agent (Unix epoch seconds), `nil` when none ever connected.
    public var latestKeepalive: Int64? {
        var latest: Int64?
        for entry in self.entries where entry.flags & Entry.hasLastKeepalive != 0 {
            if latest.map({ entry.lastKeepalive > $0 }) ?? true { latest = entry.lastKeepalive }
        }
        return latest
    }
}
