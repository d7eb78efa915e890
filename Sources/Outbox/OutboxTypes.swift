/// A message to journal, produced by detection.
public struct NewOutboxMessage: Sendable, Hashable {
    /// Dedup key and `Nats-Msg-Id`: inserting the same `messageID` twice keeps the first row only.
    public var messageID: String
    public var eventID: String
    public var kind: OutboxMessageKind
    public var subject: String
    /// Zero-padded agent id, `nil` for batches.
    public var agentID: String?
    /// Signed canonical JSON.
    public var payload: [UInt8]

    public init(
        messageID: String, eventID: String, kind: OutboxMessageKind, subject: String, agentID: String?,
        payload: [UInt8]
    ) {
        self.messageID = messageID
        self.eventID = eventID
        self.kind = kind
        self.subject = subject
        self.agentID = agentID
        self.payload = payload
    }
}

/// How hard SQLite flushes commits (`PRAGMA synchronous`).
public enum OutboxSynchronous: String, Sendable, Hashable, CaseIterable {
    /// Every commit is on disk when it returns: nothing acknowledged as journaled is ever lost.
    case full
    /// In WAL mode, a power loss can lose the last commits (never corrupts): faster.
    case normal
}

/// A journal row with its delivery state, for `outbox list` and `replay`.
public struct OutboxEntry: Sendable, Hashable {
    public var message: OutboxMessage
    public var attempts: Int
    public var lastError: String?
    /// Epoch ms of the next retry chosen by the delivery worker, if any.
    public var nextAttemptAt: Int64?
    /// Epoch ms when the server acknowledged it.
    public var deliveredAt: Int64?
    /// The JetStream stream sequence from the PubAck, when known.
    public var streamSequence: UInt64?
    /// Epoch ms when it was parked (never retried, never pruned).
    public var parkedAt: Int64?

    public init(
        message: OutboxMessage, attempts: Int, lastError: String?, nextAttemptAt: Int64?, deliveredAt: Int64?,
        streamSequence: UInt64?, parkedAt: Int64?
    ) {
        self.message = message
        self.attempts = attempts
        self.lastError = lastError
        self.nextAttemptAt = nextAttemptAt
        self.deliveredAt = deliveredAt
        self.streamSequence = streamSequence
        self.parkedAt = parkedAt
    }

    /// Neither delivered nor parked.
    public var isPending: Bool { self.deliveredAt == nil && self.parkedAt == nil }
}

/// Filters for replay and listing; all set filters must match. Results are in `seq` order.
public struct OutboxQuery: Sendable, Hashable {
    /// `created_at >= createdFrom` (epoch ms).
    public var createdFrom: Int64?
    /// `created_at < createdBefore` (epoch ms).
    public var createdBefore: Int64?
    /// Zero-padded agent id, e.g. `001`.
    public var agentID: String?
    /// `seq >= seqFrom`.
    public var seqFrom: Int64?
    /// `seq <= seqThrough`.
    public var seqThrough: Int64?
    /// Only rows already acknowledged by the server.
    public var deliveredOnly: Bool
    /// Only these kinds (all kinds when `nil`).
    public var kinds: Set<OutboxMessageKind>?
    /// Paging: only rows with `seq > afterSeq`.
    public var afterSeq: Int64?
    /// At most this many rows (required, so nothing unbounded is ever loaded).
    public var limit: Int

    public init(
        createdFrom: Int64? = nil, createdBefore: Int64? = nil, agentID: String? = nil, seqFrom: Int64? = nil,
        seqThrough: Int64? = nil, deliveredOnly: Bool = false, kinds: Set<OutboxMessageKind>? = nil,
        afterSeq: Int64? = nil, limit: Int = 1000
    ) {
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
        self.agentID = agentID
        self.seqFrom = seqFrom
        self.seqThrough = seqThrough
        self.deliveredOnly = deliveredOnly
        self.kinds = kinds
        self.afterSeq = afterSeq
        self.limit = limit
    }
}

/// Counts and sizes for metrics, heartbeats and `outbox stats`.
public struct OutboxStats: Sendable, Hashable {
    public var pending: Int
    public var delivered: Int
    public var parked: Int
    /// Creation time (epoch ms) of the first pending row in journal order, `nil` when none is pending.
    public var oldestPendingCreatedAt: Int64?
    /// `now - oldestPendingCreatedAt` in seconds, `nil` when none is pending.
    public var oldestPendingAgeSeconds: Int64?
    /// The highest `seq` ever assigned (0 for a new journal).
    public var lastSeq: Int64
    /// The database file plus its WAL, in bytes.
    public var databaseBytes: Int64

    public init(
        pending: Int, delivered: Int, parked: Int, oldestPendingCreatedAt: Int64?, oldestPendingAgeSeconds: Int64?,
        lastSeq: Int64, databaseBytes: Int64
    ) {
        self.pending = pending
        self.delivered = delivered
        self.parked = parked
        self.oldestPendingCreatedAt = oldestPendingCreatedAt
        self.oldestPendingAgeSeconds = oldestPendingAgeSeconds
        self.lastSeq = lastSeq
        self.databaseBytes = databaseBytes
    }
}

/// What happened when the outbox was opened, for the caller to log and count.
public struct OutboxOpenReport: Sendable, Hashable {
    /// The file did not exist and was created.
    public var created: Bool
    /// Migrations applied by this open, in order.
    public var appliedMigrations: [String]
    /// Set when the existing file was unusable: where it was moved (it stays there for forensics).
    public var movedAsidePath: String?
    /// Why it was moved aside (the typed error); `nil` when nothing was moved.
    public var corruption: OutboxError?

    public init(created: Bool, appliedMigrations: [String], movedAsidePath: String?, corruption: OutboxError?) {
        self.created = created
        self.appliedMigrations = appliedMigrations
        self.movedAsidePath = movedAsidePath
        self.corruption = corruption
    }

    /// The journal was lost and replaced by an empty one: the gateway must re-baseline.
    public var recoveredFromCorruption: Bool { self.movedAsidePath != nil }
}
