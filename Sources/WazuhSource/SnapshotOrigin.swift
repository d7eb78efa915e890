import Foundation

/// Which source read a snapshot, and how far global.db had got then.
///
/// A snapshot read through wazuh-db's socket may hold transitions wazuh-db had not committed yet.
/// Journaled with it, this tells a later start whose only source is global.db to wait until the
/// file caught up — SQLite's change counter moved past ``fileChangeCounter``, or wazuh-db's longest
/// commit delay passed since ``readAt`` — before diffing the file against it; otherwise every
/// uncommitted transition would be reported reversed (and then again when it lands).
public struct SnapshotOrigin: Sendable, Hashable {
    /// The source that read the snapshot.
    public var source: AgentStatusSource
    /// global.db's change counter read right after the socket read (`nil`: unreadable then, or the file).
    public var fileChangeCounter: UInt32?
    /// When the read was made (millisecond precision once journaled).
    public var readAt: Date

    public init(source: AgentStatusSource, fileChangeCounter: UInt32?, readAt: Date) {
        self.source = source
        self.fileChangeCounter = fileChangeCounter
        self.readAt = readAt
    }
}

extension AgentSnapshot {
    /// Equal when they hold the same agents; ``origin`` is not compared.
    public static func == (left: AgentSnapshot, right: AgentSnapshot) -> Bool {
        left.entries == right.entries && left.arena == right.arena && left.nodeNames == right.nodeNames
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(entries)
        hasher.combine(arena)
        hasher.combine(nodeNames)
    }
}
