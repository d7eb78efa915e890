import Foundation

/// Binary export format of ``AgentSnapshot`` (version 1), all integers little-endian:
///
/// ```
/// magic "WZSNAP" · version u8 = 1 · flags u8 (bit 0: an origin follows; other bits 0)
/// [origin: source u8 (1 = wazuh-db) · counter present u8 · change counter u32 · read at, ms since 1970 i64]
/// node count u32 · per node: length u32, UTF-8 bytes
/// agent count u32 · per agent: id i32, nameEnd u32, ipEnd u32, statusCode i32, nodeIndex u16,
///                              status u8, flags u8, dateAdd i64, lastKeepalive i64, disconnectionTime i64
/// arena length u32 · arena bytes
/// FNV-1a 64 checksum u64 of every preceding byte
/// ```
/// Import checks the checksum and every structural invariant (ascending ids, offsets inside the
/// arena, known status values, node indexes in range), so garbage is rejected, never trusted.
extension AgentSnapshot {
    static let magic: [UInt8] = Array("WZSNAP".utf8)
    static let formatVersion: UInt8 = 1

    /// Serialises the snapshot; ``init(exported:)`` restores an equal snapshot.
    public func export() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16 + entries.count * 44 + arena.count + nodeNames.count * 16)
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
        out.appendLE(UInt32(nodeNames.count))
        for node in nodeNames {
            let bytes = Array(node.utf8)
            out.appendLE(UInt32(bytes.count))
            out.append(contentsOf: bytes)
        }
        out.appendLE(UInt32(entries.count))
        for entry in entries {
            out.appendLE(UInt32(bitPattern: entry.id))
            out.appendLE(entry.nameEnd)
            out.appendLE(entry.ipEnd)
            out.appendLE(UInt32(bitPattern: entry.statusCode))
            out.appendLE(entry.nodeIndex)
            out.append(entry.status)
            out.append(entry.flags)
            out.appendLE(UInt64(bitPattern: entry.dateAdd))
            out.appendLE(UInt64(bitPattern: entry.lastKeepalive))
            out.appendLE(UInt64(bitPattern: entry.disconnectionTime))
        }
        out.appendLE(UInt32(arena.count))
        out.append(contentsOf: arena)
        out.appendLE(fnv1a64(out[...]))
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
        guard let stored = trailer.readU64(), stored == fnv1a64(body) else {
            throw corrupt("exported snapshot checksum mismatch")
        }
        var reader = ByteReader(body.dropFirst(Self.magic.count))
        guard let version = reader.readU8(), version == Self.formatVersion else {
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
        guard let nodeCount = reader.readU32(), nodeCount <= UInt32(Entry.noNode) else {
            throw corrupt("invalid snapshot header")
        }
        var nodeNames: [String] = []
        for _ in 0..<nodeCount {
            guard let length = reader.readU32(), let raw = reader.read(Int(length)) else {
                throw corrupt("truncated node name table")
            }
            nodeNames.append(String(decoding: raw, as: UTF8.self))
        }
        guard let agentCount = reader.readU32(), Int(agentCount) <= reader.remaining / 44 else {
            throw corrupt("agent count exceeds the data present")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(agentCount))
        for _ in 0..<agentCount {
            guard let id = reader.readU32(), let nameEnd = reader.readU32(), let ipEnd = reader.readU32(),
                let statusCode = reader.readU32(), let nodeIndex = reader.readU16(), let status = reader.readU8(),
                let flags = reader.readU8(), let dateAdd = reader.readU64(), let lastKeepalive = reader.readU64(),
                let disconnectionTime = reader.readU64()
            else {
                throw corrupt("truncated agent entry")
            }
            entries.append(
                Entry(
                    id: Int32(bitPattern: id), nameEnd: nameEnd, ipEnd: ipEnd,
                    statusCode: Int32(bitPattern: statusCode),
                    nodeIndex: nodeIndex, status: status, flags: flags, dateAdd: Int64(bitPattern: dateAdd),
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
            previousID = entry.id
            previousEnd = entry.ipEnd
        }
        guard Int(previousEnd) == arena.count else { throw corrupt("arena holds unreferenced bytes") }
        self.init(entries: entries, arena: Array(arena), nodeNames: nodeNames)
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

private func fnv1a64(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01b3
    }
    return hash
}
