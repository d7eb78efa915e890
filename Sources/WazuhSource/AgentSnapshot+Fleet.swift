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

    /// Counts by status per cluster node, agents without a node name under `unnamed`, counted from the
    /// compact entries without decoding any record (what the dashboard shows after every cycle).
    public func countsPerNode(unnamed: String) -> [String: FleetCounts] {
        var byIndex = [FleetCounts](repeating: FleetCounts(), count: self.nodeNames.count + 1)
        for entry in self.entries {
            let index = entry.nodeIndex == Entry.noNode ? self.nodeNames.count : Int(entry.nodeIndex)
            byIndex[index].total += 1
            switch entry.status {
            case 1: byIndex[index].active += 1
            case 2: byIndex[index].disconnected += 1
            case 3: byIndex[index].neverConnected += 1
            case 4: byIndex[index].pending += 1
            default: break
            }
        }
        var result: [String: FleetCounts] = [:]
        for (index, counts) in byIndex.enumerated() where counts.total > 0 {
            let name = index == self.nodeNames.count ? unnamed : self.nodeNames[index]
            var merged = result[name] ?? FleetCounts()
            merged.total += counts.total
            merged.active += counts.active
            merged.disconnected += counts.disconnected
            merged.pending += counts.pending
            merged.neverConnected += counts.neverConnected
            result[name] = merged
        }
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

extension AgentSnapshot {
    /// How many agents belong to each agent group (an agent in `default,site-a` counts in both), counted
    /// per distinct `group` value without decoding any record.
    public var agentsPerGroup: [String: Int] {
        var bySet = [Int](repeating: 0, count: self.groupSets.count)
        for entry in self.entries where entry.groupIndex != Entry.noNode { bySet[Int(entry.groupIndex)] += 1 }
        var result: [String: Int] = [:]
        for (index, count) in bySet.enumerated() where count > 0 {
            for name in AgentRecord.groupNames(self.groupSets[index]) { result[name, default: 0] += count }
        }
        return result
    }

    /// The `group` value (comma-separated groups) of agent `id`; `nil` when unknown or not in the snapshot.
    public func groups(ofAgentID id: Int) -> String? {
        var low = 0
        var high = self.entries.count
        while low < high {
            let mid = (low + high) / 2
            if Int(self.entries[mid].id) < id { low = mid + 1 } else { high = mid }
        }
        guard low < self.entries.count, Int(self.entries[low].id) == id else { return nil }
        let index = self.entries[low].groupIndex
        return index == Entry.noNode ? nil : self.groupSets[Int(index)]
    }
}
