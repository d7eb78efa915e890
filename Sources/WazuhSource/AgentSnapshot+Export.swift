import Foundation

/// Binary export format of ``AgentSnapshot`` (version 2), all integers little-endian:
///
/// ```
/// magic "WZSNAP" · version u8 = 2 · flags u8 (bit 0: an origin follows; other bits 0)
/// [origin: source u8 (1 = wazuh-db) · counter present u8 · change counter u32 · read at, ms since 1970 i64]
/// node count u32 · per node: length u32, UTF-8 bytes
/// group set count u32 · per group set: length u32, UTF-8 bytes            (version 2)
/// agent count u32 · per agent: id i32, nameEnd u32, ipEnd u32, statusCode i32, nodeIndex u16,
///                              status u8, flags u8, [groupIndex u16 (version 2)],
///                              dateAdd i64, lastKeepalive i64, disconnectionTime i64
/// arena length u32 · arena bytes
/// FNV-1a 64 checksum u64 of every preceding byte
/// ```
/// Version 1 (no group sets, no group index) is still read: its agents have no groups.
/// Import checks the checksum and every structural invariant (ascending ids, offsets inside the
/// arena, known status values, node indexes in range), so garbage is rejected, never trusted.
extension AgentSnapshot {
    static let magic: [UInt8] = Array("WZSNAP".utf8)
    static let formatVersion: UInt8 = 2

    /// Serialises the snapshot; ``init(exported:)`` restores an equal snapshot.
    public func export() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32 + (nodeNames + groupSets).reduce(0) { $0 + 4 + $1.utf8.count })
        out.append(contentsOf: Self.magic)
        out.append(Self.formatVersion)
        if let origin {
            out.append(1)
            out.append(origin.source == .wazuhDB ? 1 : 0)
            out.append(origin.fileChangeCounter == nil ? 0 : 1)
            out.appendLE(origin.fileChangeCounter ?? 0)
            out.appendLE(UInt64(bitPattern: Int64((origin.readAt.timeIntervalSince1970 * 1000).rounded())))
        } else {
            out.append(0)
        }
        for table in [nodeNames, groupSets] {
            out.appendLE(UInt32(table.count))
            for text in table {
                let bytes = Array(text.utf8)
                out.appendLE(UInt32(bytes.count))
                out.append(contentsOf: bytes)
            }
        }
        // The agents, the arena and the checksum: the bulk of the bytes, written in place (no per-byte
        // append, no bounds check per field).
        let head = out.count
        let total = head + 4 + entries.count * 46 + 4 + arena.count + 8
        out.reserveCapacity(total)
        out.append(contentsOf: repeatElement(0, count: total - head))
        out.withUnsafeMutableBytes { raw in
            var at = head
            @inline(__always) func put<T: FixedWidthInteger>(_ value: T) {
                raw.storeBytes(of: value.littleEndian, toByteOffset: at, as: T.self)
                at += MemoryLayout<T>.size
            }
            put(UInt32(entries.count))
            for entry in entries {
                put(UInt32(bitPattern: entry.id))
                put(entry.nameEnd)
                put(entry.ipEnd)
                put(UInt32(bitPattern: entry.statusCode))
                put(entry.nodeIndex)
                put(entry.status)
                put(entry.flags)
                put(entry.groupIndex)
                put(UInt64(bitPattern: entry.dateAdd))
                put(UInt64(bitPattern: entry.lastKeepalive))
                put(UInt64(bitPattern: entry.disconnectionTime))
            }
            put(UInt32(arena.count))
            arena.withUnsafeBytes { bytes in
                if let source = bytes.baseAddress, let target = raw.baseAddress {
                    (target + at).copyMemory(from: source, byteCount: bytes.count)
                }
            }
            at += arena.count
            put(AgentSnapshot.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<at])))
        }
        return out
    }

    /// Restores a snapshot written by ``export()``.
    /// - Throws: ``WazuhSourceError`` with code `.snapshotCorrupt` naming what is wrong.
    public init(exported bytes: [UInt8]) throws(WazuhSourceError) {
        func corrupt(_ message: String) -> WazuhSourceError {
            WazuhSourceError(code: .snapshotCorrupt, path: nil, message: message)
        }
        guard bytes.count >= Self.magic.count + 2 + 12 + 8 else {
            throw corrupt("exported snapshot is too short (\(bytes.count) bytes)")
        }
        guard bytes.starts(with: Self.magic) else {
            throw corrupt("exported snapshot does not start with the WZSNAP magic")
        }
        let body = bytes[..<(bytes.count - 8)]
        var trailer = ByteReader(bytes[(bytes.count - 8)...])
        guard let stored = trailer.readU64(), stored == body.withUnsafeBytes({ AgentSnapshot.checksum($0) }) else {
            throw corrupt("exported snapshot checksum mismatch")
        }
        var reader = ByteReader(body.dropFirst(Self.magic.count))
        guard let version = reader.readU8(), version == 1 || version == Self.formatVersion else {
            throw corrupt("unsupported snapshot format version")
        }
        guard let headerFlags = reader.readU8(), headerFlags & ~UInt8(1) == 0 else {
            throw corrupt("invalid snapshot header")
        }
        var origin: SnapshotOrigin?
        if headerFlags & 1 != 0 {
            guard let source = reader.readU8(), source <= 1, let hasCounter = reader.readU8(), hasCounter <= 1,
                let counter = reader.readU32(), let readAt = reader.readU64()
            else { throw corrupt("invalid snapshot origin") }
            origin = SnapshotOrigin(
                source: source == 1 ? .wazuhDB : .file, fileChangeCounter: hasCounter == 1 ? counter : nil,
                readAt: Date(timeIntervalSince1970: TimeInterval(Int64(bitPattern: readAt)) / 1000))
        }
        func table(_ what: String) throws(WazuhSourceError) -> [String] {
            guard let count = reader.readU32(), count <= UInt32(Entry.noNode) else {
                throw corrupt("invalid snapshot header")
            }
            var texts: [String] = []
            for _ in 0..<count {
                guard let length = reader.readU32(), let raw = reader.read(Int(length)) else {
                    throw corrupt("truncated \(what) table")
                }
                texts.append(String(decoding: raw, as: UTF8.self))
            }
            return texts
        }
        let nodeNames = try table("node name")
        let groupSets = try version >= 2 ? table("group set") : []
        let entrySize = version >= 2 ? 46 : 44
        guard let agentCount = reader.readU32(), Int(agentCount) <= reader.remaining / entrySize else {
            throw corrupt("agent count exceeds the data present")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(agentCount))
        for _ in 0..<agentCount {
            guard let id = reader.readU32(), let nameEnd = reader.readU32(), let ipEnd = reader.readU32(),
                let statusCode = reader.readU32(), let nodeIndex = reader.readU16(), let status = reader.readU8(),
                let flags = reader.readU8(), let groupIndex = version >= 2 ? reader.readU16() : Optional(Entry.noNode),
                let dateAdd = reader.readU64(), let lastKeepalive = reader.readU64(),
                let disconnectionTime = reader.readU64()
            else {
                throw corrupt("truncated agent entry")
            }
            entries.append(
                Entry(
                    id: Int32(bitPattern: id), nameEnd: nameEnd, ipEnd: ipEnd,
                    statusCode: Int32(bitPattern: statusCode),
                    nodeIndex: nodeIndex, status: status, flags: flags, groupIndex: groupIndex,
                    dateAdd: Int64(bitPattern: dateAdd),
                    lastKeepalive: Int64(bitPattern: lastKeepalive),
                    disconnectionTime: Int64(bitPattern: disconnectionTime)))
        }
        guard let arenaLength = reader.readU32(), let arena = reader.read(Int(arenaLength)), reader.remaining == 0
        else {
            throw corrupt("arena length does not match the data present")
        }
        var previousID: Int32 = 0
        var previousEnd: UInt32 = 0
        for entry in entries {
            guard entry.id > previousID else { throw corrupt("agent ids are not strictly ascending and positive") }
            guard previousEnd <= entry.nameEnd, entry.nameEnd <= entry.ipEnd, Int(entry.ipEnd) <= arena.count else {
                throw corrupt("agent text offsets fall outside the arena")
            }
            guard entry.status <= 4, entry.flags & ~UInt8(15) == 0 else {
                throw corrupt("unknown status or flag value")
            }
            guard entry.nodeIndex == Entry.noNode || Int(entry.nodeIndex) < nodeNames.count else {
                throw corrupt("node index out of range")
            }
            guard entry.groupIndex == Entry.noNode || Int(entry.groupIndex) < groupSets.count else {
                throw corrupt("group index out of range")
            }
            previousID = entry.id
            previousEnd = entry.ipEnd
        }
        guard Int(previousEnd) == arena.count else { throw corrupt("arena holds unreferenced bytes") }
        self.init(entries: entries, arena: Array(arena), nodeNames: nodeNames, groupSets: groupSets)
        self.origin = origin
    }
}

private struct ByteReader {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var remaining: Int { bytes.count }

    mutating func read(_ count: Int) -> ArraySlice<UInt8>? {
        guard count >= 0, bytes.count >= count else { return nil }
        let result = bytes.prefix(count)
        bytes = bytes.dropFirst(count)
        return result
    }

    mutating func readLE<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) -> T? {
        guard let raw = read(MemoryLayout<T>.size) else { return nil }
        var value: T = 0
        for (shift, byte) in raw.enumerated() {
            value |= T(byte) << (shift * 8)
        }
        return value
    }

    mutating func readU8() -> UInt8? { readLE(UInt8.self) }
    mutating func readU16() -> UInt16? { readLE(UInt16.self) }
    mutating func readU32() -> UInt32? { readLE(UInt32.self) }
    mutating func readU64() -> UInt64? { readLE(UInt64.self) }
}

extension Array where Element == UInt8 {
    fileprivate mutating func appendLE<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        var remaining = value
        for _ in 0..<MemoryLayout<T>.size {
            append(UInt8(truncatingIfNeeded: remaining))
            remaining >>= 8
        }
    }
}

extension AgentSnapshot {
    /// FNV-1a 64 of `bytes`: the checksum ending an export and a delta.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }
}
