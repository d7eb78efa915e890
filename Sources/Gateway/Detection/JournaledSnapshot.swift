import Foundation
import Outbox
import WazuhSource

/// The source snapshot as the outbox journals it: a *base* written whole now and then, and per
/// detection cycle only what moved since the base (an ``AgentSnapshotDelta`` under one `meta` key),
/// in the same transaction as the cycle's events.
///
/// Rewriting the whole snapshot every cycle cost a 100k-agent fleet ~6.4 MB of WAL, an fsync and a
/// checkpoint per cycle (tens to hundreds of ms, on the events' path) and as many bytes of buffers;
/// a cycle of a few changes now writes a few hundred bytes. What a restart diffs against is the base
/// with the delta applied: every agent's status, registration, disconnection, status code, name, IP,
/// node and groups as of the last journaled cycle; keepalives of agents that did not move are the
/// base's (see ``maximumBaseAge``).
///
/// The delta names its base by the base export's checksum, so a delta left behind by an older base
/// (a re-baseline, a snapshot written by another version) is never applied to the wrong one.
public struct JournaledSnapshot: Sendable {
    /// The `meta` key of the delta (per manager in a manager's store view).
    public static let deltaKey = "source_snapshot_delta"
    /// A base older than this (ms) is rewritten after the cycle that finds it so: bounds how old the
    /// journaled keepalives of agents that did not move can be.
    public static let maximumBaseAge: Int64 = 600_000

    /// The snapshot last written whole.
    public private(set) var base: AgentSnapshot
    /// The trailing checksum of the base's export (what a delta is bound to).
    public private(set) var baseChecksum: UInt64
    /// When the base was written (epoch ms); a loaded base counts as written at load time.
    public private(set) var baseWrittenAt: Int64

    /// After writing `exported` (the export of `base`) whole at `writtenAt`.
    public init(base: AgentSnapshot, exported: [UInt8], writtenAt: Int64) {
        self.base = base
        self.baseChecksum = AgentSnapshot.exportChecksum(exported) ?? 0
        self.baseWrittenAt = writtenAt
    }

    /// Agents a delta may touch before the whole snapshot is written instead (in the cycle).
    static func deltaLimit(agents: Int) -> Int { max(512, agents / 32) }

    /// What to journal for one cycle.
    public enum Write {
        /// Only `value` under ``deltaKey`` (the snapshot row is left as it is); `agents` it touches.
        case delta(value: String, agents: Int)
        /// The whole snapshot (its export), the delta key removed.
        case whole([UInt8])
    }

    /// What to journal for `snapshot`: its delta since the base, or the whole snapshot when the delta
    /// would be too large.
    public func write(for snapshot: AgentSnapshot) -> Write {
        guard let delta = snapshot.delta(since: base, limit: Self.deltaLimit(agents: snapshot.count)) else {
            return .whole(snapshot.export())
        }
        let encoded = delta.encoded(baseChecksum: baseChecksum)
        return .delta(value: Data(encoded).base64EncodedString(), agents: delta.count)
    }

    /// Whether the base should be rewritten (between cycles) after a delta of `agents` agents at `now`.
    public func compactionDue(afterDeltaOf agents: Int, now: Int64) -> Bool {
        agents > Self.deltaLimit(agents: base.count) / 4 || now - baseWrittenAt >= Self.maximumBaseAge
    }

    /// The journaled snapshot (base with its delta applied) and the journal state, `nil` for a new
    /// journal. A delta that does not belong to the stored base is ignored (the base alone is what the
    /// last whole write left).
    /// - Throws: `OutboxError` when the outbox cannot be read, ``WazuhSourceError`` `.snapshotCorrupt`
    ///   when the stored snapshot or its delta is unusable.
    public static func load(from store: OutboxStore, now: Int64) throws -> (
        snapshot: AgentSnapshot, journal: JournaledSnapshot
    )? {
        guard let bytes = try store.loadSnapshot() else { return nil }
        let base = try AgentSnapshot(exported: bytes)
        let journal = JournaledSnapshot(base: base, exported: bytes, writtenAt: now)
        guard let text = try store.metaValue(deltaKey) else { return (base, journal) }
        guard let decoded = Data(base64Encoded: text) else {
            throw WazuhSourceError(code: .snapshotCorrupt, path: nil, message: "snapshot delta is not base64")
        }
        let encoded = [UInt8](decoded)
        guard AgentSnapshotDelta.baseChecksum(ofEncoded: encoded) == journal.baseChecksum else {
            return (base, journal)
        }
        return (base.applying(try AgentSnapshotDelta(encoded: encoded, baseChecksum: journal.baseChecksum)), journal)
    }
}
