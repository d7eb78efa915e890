import Foundation

/// What a snapshot holds beyond a *base* snapshot: the agents registered or changed since, and the
/// ids removed since. Journaled instead of the whole snapshot when few agents moved (a 100k-agent
/// snapshot exports to ~6.4 MB, a cycle's delta to a few hundred bytes), and applied to the base
/// on restart.
///
/// An agent counts as changed when any field but `last_keepalive` differs (status, status code,
/// registration and disconnection times, name, IP, node, groups): keepalive-only moves — every agent,
/// every full read — would make every delta the whole fleet. An unchanged agent therefore carries
/// the base's keepalive once applied (the journal rewrites the base when it is older than the
/// caller's limit, see `DetectionService`).
///
/// Encoded form (integers little-endian):
/// ```
/// magic "WZDELTA" · version u8 = 1 · base checksum u64 (the base export's trailing FNV-1a)
/// removed count u32 · removed ids i32 … · changed agents: an ``AgentSnapshot/export()`` (with the
/// current origin) · FNV-1a 64 u64 of every preceding byte
/// ```
public struct AgentSnapshotDelta: Sendable, Hashable {
    /// The registered and changed agents, as they are now; its origin is the current snapshot's.
    public var changed: AgentSnapshot
    /// Ids of the base's agents that are gone, ascending.
    public var removed: [Int]

    public init(changed: AgentSnapshot, removed: [Int]) {
        self.changed = changed
        self.removed = removed
    }

    /// Agents this delta touches.
    public var count: Int { changed.count + removed.count }

    static let magic: [UInt8] = Array("WZDELTA".utf8)

    /// The encoded delta, bound to the base whose export ends in `baseChecksum`.
    public func encoded(baseChecksum: UInt64) -> [UInt8] {
        var out = Self.magic
        out.append(1)
        out.appendLittleEndian(baseChecksum)
        out.appendLittleEndian(UInt32(removed.count))
        for id in removed { out.appendLittleEndian(UInt32(bitPattern: Int32(truncatingIfNeeded: id))) }
        out.append(contentsOf: changed.export())
        out.appendLittleEndian(out.withUnsafeBytes { AgentSnapshot.checksum($0) })
        return out
    }

    /// The base checksum an encoded delta names, `nil` when it is no delta.
    public static func baseChecksum(ofEncoded bytes: [UInt8]) -> UInt64? {
        guard bytes.count >= magic.count + 9, bytes.starts(with: magic) else { return nil }
        return bytes.readLittleEndian(UInt64.self, at: magic.count + 1)
    }

    /// Decodes ``encoded(baseChecksum:)``.
    /// - Throws: ``WazuhSourceError`` `.snapshotCorrupt` naming the problem, including a delta written
    ///   for another base than the one whose export ends in `baseChecksum`.
    public init(encoded bytes: [UInt8], baseChecksum: UInt64) throws(WazuhSourceError) {
        func corrupt(_ message: String) -> WazuhSourceError {
            WazuhSourceError(code: .snapshotCorrupt, path: nil, message: message)
        }
        let header = Self.magic.count + 1 + 8 + 4
        guard bytes.count >= header + 8, bytes.starts(with: Self.magic) else {
            throw corrupt("snapshot delta does not start with the WZDELTA magic")
        }
        let body = bytes.count - 8
        let stored = bytes.readLittleEndian(UInt64.self, at: body)
        guard stored == bytes.withUnsafeBytes({ AgentSnapshot.checksum(UnsafeRawBufferPointer(rebasing: $0[..<body])) })
        else { throw corrupt("snapshot delta checksum mismatch") }
        guard bytes[Self.magic.count] == 1 else { throw corrupt("unsupported snapshot delta version") }
        guard bytes.readLittleEndian(UInt64.self, at: Self.magic.count + 1) == baseChecksum else {
            throw corrupt("snapshot delta belongs to another journaled snapshot")
        }
        let removedCount = Int(bytes.readLittleEndian(UInt32.self, at: Self.magic.count + 9))
        guard removedCount <= (body - header) / 4 else { throw corrupt("snapshot delta removes more ids than present") }
        var removed: [Int] = []
        removed.reserveCapacity(removedCount)
        for index in 0..<removedCount {
            let id = Int(Int32(bitPattern: bytes.readLittleEndian(UInt32.self, at: header + index * 4)))
            guard id > (removed.last ?? 0) else { throw corrupt("snapshot delta removed ids are not ascending") }
            removed.append(id)
        }
        self.changed = try AgentSnapshot(exported: Array(bytes[(header + removedCount * 4)..<body]))
        self.removed = removed
    }
}

extension AgentSnapshot {
    /// The checksum ending an ``export()`` (its last 8 bytes), `nil` when too short to be one.
    public static func exportChecksum(_ exported: [UInt8]) -> UInt64? {
        guard exported.count >= 8 else { return nil }
        return exported.readLittleEndian(UInt64.self, at: exported.count - 8)
    }

    /// What this snapshot holds beyond `base` (see ``AgentSnapshotDelta``), or `nil` when more than
    /// `limit` agents differ (journal the whole snapshot instead).
    public func delta(since base: AgentSnapshot, limit: Int) -> AgentSnapshotDelta? {
        var builder = Builder(capacity: 0)
        var removed: [Int] = []
        var touched = 0
        var i = 0
        var j = 0
        while i < base.entries.count || j < entries.count {
            if j == entries.count || (i < base.entries.count && base.entries[i].id < entries[j].id) {
                removed.append(Int(base.entries[i].id))
                i += 1
            } else if i == base.entries.count || entries[j].id < base.entries[i].id {
                builder.appendEntry(at: j, of: self)
                j += 1
            } else {
                if !sameExceptKeepalive(j, base, i) { builder.appendEntry(at: j, of: self) }
                i += 1
                j += 1
            }
            touched = removed.count + builder.count
            if touched > limit { return nil }
        }
        var changed = builder.finish()
        changed.origin = origin
        return AgentSnapshotDelta(changed: changed, removed: removed)
    }

    /// `base` with `delta` applied: its removed agents dropped, its changed agents replacing or joining
    /// the base's; the origin is the delta's.
    public func applying(_ delta: AgentSnapshotDelta) -> AgentSnapshot {
        let changed = delta.changed
        var removed = delta.removed[...]
        var builder = Builder(capacity: entries.count + changed.count, sharingTablesOf: self)
        var runStart = 0
        var i = 0
        var j = 0
        while i < entries.count || j < changed.entries.count {
            let baseID = i < entries.count ? Int(entries[i].id) : Int.max
            let changedID = j < changed.entries.count ? Int(changed.entries[j].id) : Int.max
            if baseID < changedID {
                while let first = removed.first, first < baseID { removed.removeFirst() }
                if removed.first == baseID {
                    builder.appendCopies(of: self, runStart..<i)
                    runStart = i + 1
                }
                i += 1
            } else {
                builder.appendCopies(of: self, runStart..<i)
                if baseID == changedID { i += 1 }
                runStart = i
                builder.appendEntry(at: j, of: changed)
                j += 1
            }
        }
        builder.appendCopies(of: self, runStart..<i)
        var result = builder.finish()
        result.origin = changed.origin
        return result
    }

    /// Whether entry `index` here and entry `other` of `base` agree in every field but the keepalive.
    private func sameExceptKeepalive(_ index: Int, _ base: AgentSnapshot, _ other: Int) -> Bool {
        let mine = entries[index]
        let theirs = base.entries[other]
        let keepalive = Entry.hasLastKeepalive
        guard mine.status == theirs.status, mine.statusCode == theirs.statusCode, mine.dateAdd == theirs.dateAdd,
            mine.disconnectionTime == theirs.disconnectionTime, mine.flags & ~keepalive == theirs.flags & ~keepalive,
            nameBytes(at: index).elementsEqual(base.nameBytes(at: other)),
            ipBytes(at: index).elementsEqual(base.ipBytes(at: other))
        else { return false }
        let myNode = mine.nodeIndex == Entry.noNode ? nil : nodeNames[Int(mine.nodeIndex)]
        let theirNode = theirs.nodeIndex == Entry.noNode ? nil : base.nodeNames[Int(theirs.nodeIndex)]
        let myGroups = mine.groupIndex == Entry.noNode ? nil : groupSets[Int(mine.groupIndex)]
        let theirGroups = theirs.groupIndex == Entry.noNode ? nil : base.groupSets[Int(theirs.groupIndex)]
        return myNode == theirNode && myGroups == theirGroups
    }
}

extension AgentSnapshot.Builder {
    /// Appends agent `index` of `snapshot` with every field as it is there (its node and group texts
    /// interned in this builder's tables).
    mutating func appendEntry(at index: Int, of snapshot: AgentSnapshot) {
        let entry = snapshot.entries[index]
        let node = entry.nodeIndex == AgentSnapshot.Entry.noNode ? nil : snapshot.nodeNames[Int(entry.nodeIndex)]
        let groups = entry.groupIndex == AgentSnapshot.Entry.noNode ? nil : snapshot.groupSets[Int(entry.groupIndex)]
        let name = Array(snapshot.nameBytes(at: index))
        let ip = entry.flags & AgentSnapshot.Entry.hasIP != 0 ? Array(snapshot.ipBytes(at: index)) : nil
        let flags = entry.flags
        name.withUnsafeBytes { nameBytes in
            withOptionalBytes(ip) { ipBytes in
                withOptionalBytes(node.map { Array($0.utf8) }) { nodeBytes in
                    withOptionalBytes(groups.map { Array($0.utf8) }) { groupBytes in
                        self.append(
                            id: entry.id, name: nameBytes, ip: ipBytes, status: AgentSnapshot.status(entry.status),
                            lastKeepalive: flags & AgentSnapshot.Entry.hasLastKeepalive != 0
                                ? entry.lastKeepalive : nil,
                            dateAdd: entry.dateAdd,
                            disconnectionTime: flags & AgentSnapshot.Entry.hasDisconnectionTime != 0
                                ? entry.disconnectionTime : nil,
                            statusCode: flags & AgentSnapshot.Entry.hasStatusCode != 0 ? Int(entry.statusCode) : nil,
                            nodeName: nodeBytes, groups: groupBytes)
                    }
                }
            }
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    fileprivate func readLittleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}
