/// Plans an incremental read of global.db: from the key columns of the current rows (id, status,
/// registration and disconnection times, in id order) and the previous snapshot, decides which
/// agents are copied from the previous snapshot as they are (in runs) and which are read afresh
/// (registered, status changed, re-registered, disconnected again).
///
/// Pure: no SQLite. ``GlobalDatabaseReader`` feeds it the rows of `agentKeyQuery`, then carries out
/// ``steps`` (copies from the previous snapshot, point queries for the rest). It gives up as soon as
/// so many agents moved that a full read is cheaper.
struct IncrementalReadPlan {
    /// One step of building the snapshot.
    enum Step: Equatable {
        /// Copy these entries of the previous snapshot as they are.
        case copy(Range<Int>)
        /// Read every field of this agent.
        case fetch(Int32)
    }

    private let entries: [AgentSnapshot.Entry]
    /// Moved agents beyond which a full read is cheaper.
    let movedLimit: Int
    private(set) var steps: [Step] = []
    /// Agents that moved (one `fetch` step each).
    private(set) var moved = 0
    /// Rows fed in.
    private(set) var rows = 0
    /// `true` once more than ``movedLimit`` agents moved: the plan is void, read everything.
    private(set) var gaveUp = false
    private var run = 0..<0
    private var cursor = 0

    init(previous: AgentSnapshot) {
        entries = previous.entries
        // A point query costs about as much as stepping a few dozen rows of a full read.
        movedLimit = 64 + entries.count / 32
    }

    /// Takes the next row's key (ids strictly increasing); returns `false` once the plan gave up.
    mutating func add(_ key: AgentKey) -> Bool {
        rows += 1
        while cursor < entries.count, entries[cursor].id < key.id { cursor += 1 }
        if cursor < entries.count, entries[cursor].id == key.id, key.matches(entries[cursor]) {
            if run.upperBound == cursor, !run.isEmpty {
                run = run.lowerBound..<(cursor + 1)
            } else {
                closeRun()
                run = cursor..<(cursor + 1)
            }
            cursor += 1
            return true
        }
        closeRun()
        steps.append(.fetch(key.id))
        moved += 1
        gaveUp = moved > movedLimit
        return !gaveUp
    }

    /// Ends the plan after the last row: the steps in id order, or `nil` when it gave up.
    mutating func finish() -> [Step]? {
        if gaveUp { return nil }
        closeRun()
        return steps
    }

    private mutating func closeRun() {
        if !run.isEmpty { steps.append(.copy(run)) }
        run = 0..<0
    }
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
