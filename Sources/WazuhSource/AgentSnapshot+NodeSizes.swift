extension AgentSnapshot {
    /// Agents per cluster node and the latest keepalive, taken together: what the anomaly detector reads
    /// after every cycle.
    public struct NodeSizes: Sendable, Equatable {
        /// How many agents report to each cluster node (`nil` key: agents without a node name).
        public var agentsPerNode: [String?: Int]
        /// The latest `last_keepalive` of any agent (Unix epoch seconds), `nil` when none ever connected.
        public var latestKeepalive: Int64?
    }

    /// ``agentsPerNode`` and ``latestKeepalive`` in one pass over the compact entries, without decoding
    /// any record.
    public var nodeSizes: NodeSizes {
        var byIndex = [Int](repeating: 0, count: self.nodeNames.count + 1)
        var latest = Int64.min
        var anyKeepalive = false
        for entry in self.entries {
            byIndex[entry.nodeIndex == Entry.noNode ? self.nodeNames.count : Int(entry.nodeIndex)] += 1
            if entry.flags & Entry.hasLastKeepalive != 0 {
                anyKeepalive = true
                if entry.lastKeepalive > latest { latest = entry.lastKeepalive }
            }
        }
        var perNode: [String?: Int] = [:]
        for (index, count) in byIndex.enumerated() where count > 0 {
            perNode[index == self.nodeNames.count ? nil : self.nodeNames[index], default: 0] += count
        }
        return NodeSizes(agentsPerNode: perNode, latestKeepalive: anyKeepalive ? latest : nil)
    }
}
