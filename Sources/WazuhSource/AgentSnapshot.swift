#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The last known state of every agent (agent 000 excluded), stored compactly.
///
/// One fixed-size entry per agent (48 bytes) in a contiguous array sorted by id, plus a single
/// byte arena holding each agent's name and IP, and small tables of distinct cluster node names and
/// distinct `group` column values (an agent's groups, as one comma-separated text).
/// At realistic name lengths this is about 80 bytes per agent, against several hundred for an
/// array of ``AgentRecord``.
///
/// Names are kept as the exact bytes found in the database; ``record(at:)`` decodes them to
/// `String`, replacing invalid UTF-8 with U+FFFD (deterministically, so two readers agree).
public struct AgentSnapshot: Sendable, Hashable {
    struct Entry: Sendable, Hashable {
        var id: Int32
        /// End offset of the name in the arena; the name starts where the previous entry's IP ends.
        var nameEnd: UInt32
        /// End offset of the IP in the arena; the IP starts at `nameEnd`.
        var ipEnd: UInt32
        var statusCode: Int32
        /// Index into `nodeNames`, or `Entry.noNode`.
        var nodeIndex: UInt16
        var status: UInt8
        var flags: UInt8
        /// Index into `groupSets`, or `Entry.noNode` (no groups known); fills what was padding.
        var groupIndex: UInt16 = Entry.noNode
        var dateAdd: Int64
        var lastKeepalive: Int64
        var disconnectionTime: Int64

        static let noNode = UInt16.max
        static let hasIP: UInt8 = 1
        static let hasLastKeepalive: UInt8 = 2
        static let hasDisconnectionTime: UInt8 = 4
        static let hasStatusCode: UInt8 = 8
    }

    var entries: [Entry]
    var arena: [UInt8]
    var nodeNames: [String]
    /// Distinct `group` column values (`default,site-a`), indexed by `Entry.groupIndex`.
    var groupSets: [String]

    /// Agent counts by status.
    public private(set) var counts: FleetCounts

    /// Where the state was read, when that matters on restart (see ``SnapshotOrigin``); not part of
    /// equality: two snapshots of the same agents are equal whichever source read them.
    public var origin: SnapshotOrigin?

    /// An empty snapshot (no agents).
    public init() {
        self.entries = []
        self.arena = []
        self.nodeNames = []
        self.groupSets = []
        self.counts = FleetCounts()
    }

    init(entries: [Entry], arena: [UInt8], nodeNames: [String], groupSets: [String] = []) {
        self.entries = entries
        self.arena = arena
        self.nodeNames = nodeNames
        self.groupSets = groupSets
        self.counts = Self.count(entries)
    }

    /// Builds a snapshot from records in any order. Agent 0 and duplicate ids (the last wins) are dropped.
    public init(records: some Sequence<AgentRecord>) {
        var byID: [Int: AgentRecord] = [:]
        for record in records where record.id > 0 && record.id <= Int(Int32.max) {
            byID[record.id] = record
        }
        var builder = Builder(capacity: byID.count)
        for id in byID.keys.sorted() {
            guard let record = byID[id] else { continue }
            let name = Array(record.name.utf8)
            let ip = record.ip.map { Array($0.utf8) }
            let node = record.nodeName.map { Array($0.utf8) }
            let groups = record.groups.map { Array($0.utf8) }
            name.withUnsafeBytes { nameBytes in
                withOptionalBytes(ip) { ipBytes in
                    withOptionalBytes(node) { nodeBytes in
                        withOptionalBytes(groups) { groupBytes in
                            builder.append(
                                id: Int32(id), name: nameBytes, ip: ipBytes, status: record.status,
                                lastKeepalive: record.lastKeepalive, dateAdd: record.dateAdd,
                                disconnectionTime: record.disconnectionTime, statusCode: record.statusCode,
                                nodeName: nodeBytes, groups: groupBytes)
                        }
                    }
                }
            }
        }
        self = builder.finish()
    }

    /// Number of agents.
    public var count: Int { entries.count }

    /// Agent ids in ascending order.
    public var agentIDs: [Int] { entries.map { Int($0.id) } }

    /// The record of the agent at `index` (0 ..< count, ascending id order).
    public func record(at index: Int) -> AgentRecord {
        let entry = entries[index]
        return AgentRecord(
            id: Int(entry.id),
            name: String(decoding: nameBytes(at: index), as: UTF8.self),
            ip: entry.flags & Entry.hasIP != 0 ? String(decoding: ipBytes(at: index), as: UTF8.self) : nil,
            status: Self.status(entry.status),
            lastKeepalive: entry.flags & Entry.hasLastKeepalive != 0 ? entry.lastKeepalive : nil,
            dateAdd: entry.dateAdd,
            disconnectionTime: entry.flags & Entry.hasDisconnectionTime != 0 ? entry.disconnectionTime : nil,
            statusCode: entry.flags & Entry.hasStatusCode != 0 ? Int(entry.statusCode) : nil,
            nodeName: entry.nodeIndex == Entry.noNode ? nil : nodeNames[Int(entry.nodeIndex)],
            groups: entry.groupIndex == Entry.noNode ? nil : groupSets[Int(entry.groupIndex)]
        )
    }

    /// The record of agent `id`, or `nil` when it is not in the snapshot. Binary search.
    public func record(id: Int) -> AgentRecord? {
        var low = 0
        var high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if Int(entries[mid].id) < id {
                low = mid + 1
            } else {
                high = mid
            }
        }
        guard low < entries.count, Int(entries[low].id) == id else { return nil }
        return record(at: low)
    }

    /// Every record, in ascending id order (allocates one `AgentRecord` per agent).
    public var records: [AgentRecord] { (0..<entries.count).map(record(at:)) }

    /// The exact name bytes of the agent at `index`, as stored in the database.
    public func nameBytes(at index: Int) -> ArraySlice<UInt8> {
        let start = index == 0 ? 0 : Int(entries[index - 1].ipEnd)
        return arena[start..<Int(entries[index].nameEnd)]
    }

    func ipBytes(at index: Int) -> ArraySlice<UInt8> {
        arena[Int(entries[index].nameEnd)..<Int(entries[index].ipEnd)]
    }

    /// Approximate heap bytes held by this snapshot (entries, arena, node names, group sets).
    public var approximateByteCount: Int {
        entries.capacity * MemoryLayout<Entry>.stride + arena.capacity
            + (nodeNames + groupSets).reduce(0) { $0 + $1.utf8.count + 16 }
    }

    static func status(_ raw: UInt8) -> ConnectionStatus {
        switch raw {
        case 1: .active
        case 2: .disconnected
        case 3: .neverConnected
        case 4: .pending
        default: .unknown
        }
    }

    static func rawStatus(_ status: ConnectionStatus) -> UInt8 {
        switch status {
        case .unknown: 0
        case .active: 1
        case .disconnected: 2
        case .neverConnected: 3
        case .pending: 4
        }
    }

    static func count(_ entries: [Entry]) -> FleetCounts {
        var counts = FleetCounts(total: entries.count)
        for entry in entries {
            switch entry.status {
            case 1: counts.active += 1
            case 2: counts.disconnected += 1
            case 3: counts.neverConnected += 1
            case 4: counts.pending += 1
            default: break
            }
        }
        return counts
    }
}

extension AgentSnapshot {
    /// Accumulates agents in ascending id order; used by the reader to fill a snapshot straight
    /// from SQLite's column buffers without intermediate `String`s.
    struct Builder {
        private var entries: [Entry]
        private var arena: [UInt8]
        private var nodeNames = TextTable()
        private var groupSets = TextTable()

        /// Agents appended so far.
        var count: Int { entries.count }

        init(capacity: Int) {
            entries = []
            entries.reserveCapacity(capacity)
            arena = []
            arena.reserveCapacity(capacity * 24)
        }

        /// Appends one agent; ids must be strictly ascending (the reader selects `ORDER BY id`).
        mutating func append(
            id: Int32, name: UnsafeRawBufferPointer, ip: UnsafeRawBufferPointer?, status: ConnectionStatus,
            lastKeepalive: Int64?, dateAdd: Int64, disconnectionTime: Int64?, statusCode: Int?,
            nodeName: UnsafeRawBufferPointer?, groups: UnsafeRawBufferPointer? = nil
        ) {
            arena.append(contentsOf: name)
            let nameEnd = UInt32(truncatingIfNeeded: arena.count)
            if let ip {
                arena.append(contentsOf: ip)
            }
            var flags: UInt8 = 0
            if ip != nil { flags |= Entry.hasIP }
            if lastKeepalive != nil { flags |= Entry.hasLastKeepalive }
            if disconnectionTime != nil { flags |= Entry.hasDisconnectionTime }
            var code: Int32 = 0
            if let statusCode {
                flags |= Entry.hasStatusCode
                code = Int32(clamping: statusCode)
            }
            var node = Entry.noNode
            if let nodeName { node = nodeNames.intern(nodeName) }
            var group = Entry.noNode
            if let groups, groups.count > 0 { group = groupSets.intern(groups) }
            entries.append(
                Entry(
                    id: id, nameEnd: nameEnd, ipEnd: UInt32(truncatingIfNeeded: arena.count), statusCode: code,
                    nodeIndex: node, status: AgentSnapshot.rawStatus(status),
                    flags: flags, groupIndex: group, dateAdd: dateAdd, lastKeepalive: lastKeepalive ?? 0,
                    disconnectionTime: disconnectionTime ?? 0))
        }

        /// A builder whose node and group tables start as `previous`'s (so entries copied from it keep
        /// their node and group indexes).
        init(capacity: Int, sharingTablesOf previous: AgentSnapshot) {
            self.init(capacity: capacity)
            self.nodeNames = TextTable(previous.nodeNames)
            self.groupSets = TextTable(previous.groupSets)
        }

        /// Appends the entries `range` of `snapshot` as they are there (agents that did not move).
        /// The builder must share `snapshot`'s tables (``init(capacity:sharingTablesOf:)``); ids must
        /// stay ascending.
        mutating func appendCopies(of snapshot: AgentSnapshot, _ range: Range<Int>) {
            guard !range.isEmpty else { return }
            let start = range.lowerBound == 0 ? 0 : Int(snapshot.entries[range.lowerBound - 1].ipEnd)
            let end = Int(snapshot.entries[range.upperBound - 1].ipEnd)
            let shift = Int64(arena.count) - Int64(start)
            arena.append(contentsOf: snapshot.arena[start..<end])
            let first = entries.count
            entries.append(contentsOf: snapshot.entries[range])
            guard shift != 0 else { return }
            for index in first..<entries.count {
                entries[index].nameEnd = UInt32(truncatingIfNeeded: Int64(entries[index].nameEnd) + shift)
                entries[index].ipEnd = UInt32(truncatingIfNeeded: Int64(entries[index].ipEnd) + shift)
            }
        }

        @inline(__always)
        static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
            guard a.count == b.count else { return false }
            guard let left = a.baseAddress, let right = b.baseAddress else { return true }
            return memcmp(left, right, a.count) == 0
        }

        /// The snapshot; buffers much larger than their contents are copied to exact size, as the
        /// snapshot lives until the next read.
        mutating func finish() -> AgentSnapshot {
            if arena.capacity > arena.count + arena.count / 4 + 64 {
                arena = arena.withUnsafeBufferPointer { Array($0) }
            }
            if entries.capacity > entries.count + entries.count / 4 + 64 {
                entries = entries.withUnsafeBufferPointer { Array($0) }
            }
            return AgentSnapshot(
                entries: entries, arena: arena, nodeNames: nodeNames.texts, groupSets: groupSets.texts)
        }
    }

    /// Distinct texts (node names, group sets) by index; `Entry.noNode` once full.
    struct TextTable {
        private(set) var texts: [String] = []
        private var index: [String: UInt16] = [:]
        private var last: (bytes: [UInt8], index: UInt16)?

        init() {}

        init(_ texts: [String]) {
            for (position, text) in texts.prefix(Int(Entry.noNode)).enumerated() {
                self.texts.append(text)
                self.index[text] = UInt16(position)
            }
        }

        mutating func intern(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
            if let last, last.bytes.withUnsafeBytes({ Builder.same($0, bytes) }) {
                return last.index
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let position: UInt16
            if let known = self.index[text] {
                position = known
            } else if self.texts.count < Int(Entry.noNode) {
                position = UInt16(self.texts.count)
                self.texts.append(text)
                self.index[text] = position
            } else {
                position = Entry.noNode
            }
            self.last = (Array(bytes), position)
            return position
        }
    }
}

func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
