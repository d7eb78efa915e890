import Outbox
import WireContract

/// One message ready for the wire: subject, headers and (sealed) payload.
public struct OutgoingMessage: Sendable, Hashable {
    public var subject: String
    public var headers: [Header]
    public var payload: [UInt8]

    /// One NATS header line.
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(subject: String, headers: [Header], payload: [UInt8]) {
        self.subject = subject
        self.headers = headers
        self.payload = payload
    }

    /// The value of the first header named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// The pending outcome of one send: resolves when the server acknowledged the message (JetStream:
/// the PubAck; request mode: any reply; publish mode: the flush), or throws when it failed.
public struct DeliveryReceipt: Sendable {
    private let outcome: @Sendable () async throws -> UInt64?
    private let arrived: @Sendable () -> Result<UInt64?, any Error>?

    /// - Parameters:
    ///   - outcome: waits for the acknowledgement and returns the stream sequence, if any.
    ///   - arrived: the outcome if it is already known, without waiting (`nil` while it is outstanding or
    ///     when the transport cannot tell without waiting). Once it returned an outcome, the receipt is
    ///     spent: `outcome` is not called afterwards.
    public init(
        _ outcome: @escaping @Sendable () async throws -> UInt64?,
        arrived: @escaping @Sendable () -> Result<UInt64?, any Error>? = { nil }
    ) {
        self.outcome = outcome
        self.arrived = arrived
    }

    /// Waits for the acknowledgement; returns the JetStream stream sequence when the mode has one.
    public func acknowledgement() async throws -> UInt64? {
        try await outcome()
    }

    /// The outcome if it has already arrived, without suspending; `nil` while it is outstanding. After a
    /// non-`nil` answer the receipt is spent (don't call ``acknowledgement()`` or this again).
    public func arrivedOutcome() -> Result<UInt64?, any Error>? {
        arrived()
    }
}

/// The I/O seam between the delivery worker and NATS (one implementation per delivery mode).
///
/// `send` must return quickly (pipelining): it suspends only while the transport's own window is
/// full, and the receipts of successive sends resolve in send order.
public protocol DeliveryTransport: Sendable {
    /// Makes the destination ready (JetStream: ensure the stream). Called before the first send and
    /// again after every rewind, so a stream that vanished is re-created.
    func prepare() async throws
    /// Sends one message without waiting for its acknowledgement.
    func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt
    /// Sends `messages` in order without waiting for their acknowledgements (one hand-off to the
    /// connection and one socket write for the whole group), returning one receipt per message in the
    /// same order; a message that could not go out gets a receipt that fails with its error. Throws only
    /// before anything was sent (e.g. one message is invalid): the worker then sends them one by one.
    /// Returns `nil` when the transport has no batch path (the default).
    func sendBatch(_ messages: [OutgoingMessage]) async throws -> [DeliveryReceipt]?
    /// Publishes a message that is not journaled (heartbeats): best effort, no acknowledgement.
    func publishUnjournaled(_ message: OutgoingMessage) async throws
    /// Pushes everything buffered to the server.
    func flush() async throws
    /// Whether the connection is up now (heartbeats are skipped while it is not).
    var isConnected: Bool { get }
    /// A short description of the connection state for heartbeats and readiness (`connected`, …).
    var connectionState: String { get }
    /// Maps any error thrown by this transport (or its receipts) to a classified failure.
    func classify(_ error: any Error) -> DeliveryFailure
}

extension DeliveryTransport {
    /// No batch path: the worker sends one message at a time.
    public func sendBatch(_ messages: [OutgoingMessage]) async throws -> [DeliveryReceipt]? { nil }
}

/// The I/O seam between the delivery worker and the outbox journal. `OutboxStore` conforms.
public protocol DeliveryJournal: Sendable {
    /// Undelivered, unparked messages with `seq > afterSeq`, in journal order, at most `limit`.
    func pendingMessages(afterSeq: Int64, limit: Int) throws -> [OutboxMessage]
    /// Marks messages delivered (one transaction); `at` is Unix epoch milliseconds.
    func markDelivered(_ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64) throws
    /// Marks messages delivered and appends one audit record per newly delivered row, in ONE
    /// transaction; returns the audit chain head. A journal without an audit log marks them only.
    func markDelivered(audited: [AuditedDelivery], at: Int64) throws -> AuditHead?
    /// Counts a failed attempt.
    func recordFailure(seq: Int64, error: String, nextAttemptAt: Int64?) throws
    /// Parks a message: never retried, never dropped.
    func park(seq: Int64, error: String) throws
    /// How many messages are pending.
    func pendingCount() throws -> Int
    /// `created_at` (epoch ms) of the oldest pending message.
    func oldestPendingCreatedAt() throws -> Int64?
    /// Deletes delivered rows older than `olderThan` (epoch ms), and oldest delivered beyond `maxBytes`.
    func prune(olderThan: Int64, maxBytes: Int64?) throws -> Int
    /// Appends audit records for acknowledged messages that mark no row (heartbeats); returns the head.
    func appendAudit(_ acknowledged: [AuditedDelivery], at: Int64) throws -> AuditHead?
}

extension DeliveryJournal {
    /// A journal without an audit log records nothing.
    public func appendAudit(_ acknowledged: [AuditedDelivery], at: Int64) throws -> AuditHead? { nil }

    public func markDelivered(audited: [AuditedDelivery], at: Int64) throws -> AuditHead? {
        try self.markDelivered(audited.map { (seq: $0.seq, streamSequence: $0.streamSequence) }, at: at)
        return nil
    }
}

/// Turns a journaled, signed message into what goes on the wire (compression, encryption, headers).
public protocol DeliverySealer: Sendable {
    func seal(_ message: OutboxMessage) throws -> OutgoingMessage
}
