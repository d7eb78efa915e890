import Foundation

/// One read of global.db that the caller must persist: the changes since the snapshot it passed
/// in, and the snapshot to persist with them (in the same outbox transaction).
public struct SourceUpdate: Sendable {
    /// Transitions since the caller's previous snapshot, ordered by agent id. Empty for a baseline.
    public var changes: [AgentChange]
    /// Counts by status at this read.
    public var counts: FleetCounts
    /// The state at this read: persist it, then pass it to the next ``AgentStatusMonitor/nextUpdate(after:)``.
    public var snapshot: AgentSnapshot
    /// Wall-clock time of the read (the detection time of the changes).
    public var readAt: Date
    /// `true` for the first read after a start without a stored snapshot.
    public var isBaseline: Bool

    /// An update; public so that other ``AgentStatusSourcing`` conformers (a remote source) can build one.
    public init(changes: [AgentChange], counts: FleetCounts, snapshot: AgentSnapshot, readAt: Date, isBaseline: Bool) {
        self.changes = changes
        self.counts = counts
        self.snapshot = snapshot
        self.readAt = readAt
        self.isBaseline = isBaseline
    }
}
