import Outbox
import WireContract

/// The delivery worker's journal: the daemon's `OutboxStore`.
public struct OutboxJournal: DeliveryJournal {
    public let store: OutboxStore

    public init(store: OutboxStore) {
        self.store = store
    }

    public func pendingMessages(afterSeq: Int64, limit: Int) throws -> [OutboxMessage] {
        try self.store.pendingMessages(afterSeq: afterSeq, limit: limit)
    }

    public func markDelivered(_ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64) throws {
        try self.store.markDelivered(seqs, at: at)
    }

    public func recordFailure(seq: Int64, error: String, nextAttemptAt: Int64?) throws {
        try self.store.recordFailure(seq: seq, error: error, nextAttemptAt: nextAttemptAt)
    }

    public func park(seq: Int64, error: String) throws {
        try self.store.park(seq: seq, error: error)
    }

    public func pendingCount() throws -> Int {
        try self.store.pendingCount()
    }

    public func oldestPendingCreatedAt() throws -> Int64? {
        try self.store.oldestPendingCreatedAt()
    }

    public func prune(olderThan: Int64, maxBytes: Int64?) throws -> Int {
        try self.store.prune(olderThan: olderThan, maxBytes: maxBytes)
    }
}

/// Seals journaled (already signed) messages at send time with WireContract's `MessageSealer`:
/// LZ4 above `delivery.compression_min_bytes`, AES-256-GCM when `security.encrypt_messages`.
public struct OutboxMessageSealer: DeliverySealer {
    public let sealer: MessageSealer

    public init(sealer: MessageSealer) {
        self.sealer = sealer
    }

    public func seal(_ message: OutboxMessage) throws -> OutgoingMessage {
        let sealed = try self.sealer.seal(
            subject: message.subject, signedPayload: message.payload, messageID: message.messageID)
        return OutgoingMessage(sealed)
    }
}

extension OutgoingMessage {
    /// The wire form of a sealed message.
    init(_ sealed: SealedMessage) {
        self.init(
            subject: sealed.subject, headers: sealed.headers.map { Header(name: $0.0, value: $0.1) },
            payload: sealed.payload)
    }
}
