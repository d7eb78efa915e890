import Foundation

/// How the source is doing, for health checks and metrics. A value snapshot; read it at any
/// time from ``AgentStatusMonitor/health``.
public struct SourceHealth: Sendable {
    /// Wall-clock time of the last successful read (of global.db or wazuh-db's socket).
    public var lastSuccessfulRead: Date?
    /// The last read failure (cleared by the next successful read).
    public var lastError: WazuhSourceError?
    /// When ``lastError`` happened.
    public var lastErrorAt: Date?
    /// Failed reads since the last successful one.
    public var consecutiveFailures: Int = 0
    /// Successful reads since start.
    public var successfulReads: Int = 0
    /// Failed reads since start.
    public var failedReads: Int = 0
    /// How long the last read's transaction was open.
    public var lastTransactionDuration: Duration?
    /// Agents (000 excluded) and counts by status at the last successful read.
    public var counts: FleetCounts = FleetCounts()
    /// Schema found at the last successful read.
    public var schema: GlobalDatabaseSchema?
    /// Disagreement between client.keys and global.db at the last comparison (when configured).
    public var clientKeys: ClientKeysComparison?
    /// The source of the last successful read (`nil` before the first).
    public var activeSource: AgentStatusSource?
    /// Times the source changed between successful reads (socket ↔ file).
    public var sourceSwitches: Int = 0
    /// The socket failed and the file does not yet hold what the socket showed: no reads until it does.
    public var waitingForFileCommit = false
    /// The last failure of wazuh-db's socket (cleared by its next successful read).
    public var lastSocketError: WazuhSourceError?
    /// Successful socket reads, requests they took and reply bytes they received, since start.
    public var socketReads: Int = 0
    public var socketQueries: Int = 0
    public var socketBytesReceived: Int = 0
    /// Changes first seen through the socket while global.db provably lacked them (no commit since
    /// the previous socket read): the events the socket delivered earlier than the file could.
    public var changesSeenBeforeFile: Int = 0
    /// How long the last socket read took (wazuh-db's time answering plus the transfer).
    public var lastSocketReadDuration: Duration?

    public init() {}

    /// `true` once a read succeeded and the last attempt did not fail.
    public var isHealthy: Bool { lastSuccessfulRead != nil && consecutiveFailures == 0 }
}

/// client.keys as a second witness of registrations and removals.
///
/// Wazuh removes an agent from client.keys (or marks it removed) and deletes its database row;
/// for a moment, or when something is wrong, the two disagree. The monitor reports the
/// disagreement in ``SourceHealth`` and logs it when it changes; it never turns it into events
/// (global.db stays the only source of events).
public struct ClientKeysComparison: Sendable, Hashable {
    /// Ids marked removed in client.keys whose row is still in global.db.
    public var removedButInDatabase: [Int]
    /// Ids active in client.keys that global.db does not have (registration not yet committed).
    public var registeredButNotInDatabase: [Int]
    /// Ids in global.db that client.keys does not list at all.
    public var inDatabaseButNotInKeys: [Int]

    public init(removedButInDatabase: [Int], registeredButNotInDatabase: [Int], inDatabaseButNotInKeys: [Int]) {
        self.removedButInDatabase = removedButInDatabase
        self.registeredButNotInDatabase = registeredButNotInDatabase
        self.inDatabaseButNotInKeys = inDatabaseButNotInKeys
    }

    /// Compares the keys file's entries with a snapshot of global.db.
    public init(keys: ClientKeysFile, snapshot: AgentSnapshot) {
        let databaseIDs = Set(snapshot.agentIDs)
        var active = Set<Int>()
        var removed = Set<Int>()
        for entry in keys.entries {
            if entry.isRemoved {
                removed.insert(entry.id)
            } else {
                active.insert(entry.id)
            }
        }
        self.removedButInDatabase = removed.subtracting(active).intersection(databaseIDs).sorted()
        self.registeredButNotInDatabase = active.subtracting(databaseIDs).sorted()
        self.inDatabaseButNotInKeys = databaseIDs.subtracting(active).subtracting(removed).sorted()
    }

    /// `true` when both witnesses agree.
    public var isConsistent: Bool {
        removedButInDatabase.isEmpty && registeredButNotInDatabase.isEmpty && inDatabaseButNotInKeys.isEmpty
    }
}
