/// What the detection loop needs from a source of agent status: the next update against the
/// snapshot it last persisted, and the source's health for checks and metrics.
///
/// ``AgentStatusMonitor`` (global.db and wazuh-db's socket) is one; a remote source (the Wazuh
/// REST API) or one manager among several is another. Every conformer keeps
/// ``AgentStatusMonitor``'s contract: an update is the diff between the snapshot passed in and a
/// fresh read, a caller that failed to persist calls again with its old snapshot and gets the same
/// changes again, read errors are retried and recorded in ``health``, and only cancellation ends
/// a wait.
public protocol AgentStatusSourcing: Sendable {
    /// Waits for the next read that differs from `previous` (or, with `nil`, for the first
    /// successful read, returned as a baseline).
    func nextUpdate(after previous: AgentSnapshot?) async throws(CancellationError) -> SourceUpdate
    /// The source's health right now; may be read from anywhere.
    var health: SourceHealth { get }
}

extension AgentStatusMonitor: AgentStatusSourcing {}
