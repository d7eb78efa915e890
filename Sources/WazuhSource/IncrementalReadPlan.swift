/// One step of building an incremental read's snapshot.
enum IncrementalStep {
    /// Copy these entries of the previous snapshot as they are.
    case copy(Range<Int>)
    /// Read every field of this agent.
    case fetch(Int32)
}

/// What decides whether an agent moved between two reads.
struct AgentKey {
    var id: Int32
    var status: UInt8
    var dateAdd: Int64
    var disconnectionTime: Int64?

    @inline(__always)
    func matches(_ entry: AgentSnapshot.Entry) -> Bool {
        guard entry.status == status, entry.dateAdd == dateAdd else { return false }
        let had = entry.flags & AgentSnapshot.Entry.hasDisconnectionTime != 0
        guard let disconnectionTime else { return !had }
        return had && entry.disconnectionTime == disconnectionTime
    }
}
