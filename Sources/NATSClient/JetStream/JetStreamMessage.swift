import NIOCore

/// A message delivered by a JetStream consumer, with its metadata and the acknowledgements the server
/// understands on its reply subject.
///
/// With `ack_policy: explicit` every message must be answered once with ``ack()``, ``nak(delay:)`` or
/// ``term()``; until then (and ``inProgress()`` restarts the clock) the server redelivers it after the
/// consumer's ack wait. ``ack()`` is fire and forget; ``doubleAck(timeout:)`` waits for the server to
/// confirm it has recorded the acknowledgement.
public struct JetStreamMessage: Sendable {
    public var message: NATSMessage
    public var metadata: JetStreamMessageMetadata
    let connection: NATSConnection

    init(message: NATSMessage, metadata: JetStreamMessageMetadata, connection: NATSConnection) {
        self.message = message
        self.metadata = metadata
        self.connection = connection
    }

    /// The subject the message was published on.
    public var subject: String { self.message.subject }
    public var headers: NATSHeaders? { self.message.headers }
    public var payload: ByteBuffer { self.message.payload }

    /// Processed: the server will not deliver it again.
    public func ack() async throws {
        try await self.send(.ack)
    }

    /// Like ``ack()``, but waits until the server confirmed it (its empty reply), so the acknowledgement
    /// is recorded before the caller goes on.
    public func doubleAck(timeout: Duration? = nil) async throws {
        try await self.confirm(.ack, timeout: timeout)
    }

    /// Sends `ack` and waits for the server's confirmation: once this returns the server has processed it
    /// (a nak'd message is queued for redelivery, a terminated one will not come again).
    public func confirm(_ ack: JetStreamAck, timeout: Duration? = nil) async throws {
        guard let reply = self.message.replyTo else { return }
        _ = try await self.connection.request(subject: reply, payload: ByteBuffer(string: ack.body), timeout: timeout)
    }

    /// Not processed: deliver it again, after `delay` if given (else at once).
    public func nak(delay: Duration? = nil) async throws {
        try await self.send(.nak(delay: delay))
    }

    /// Never deliver it again, although it was not processed.
    public func term() async throws {
        try await self.send(.term)
    }

    /// Still working on it: the ack wait starts again.
    public func inProgress() async throws {
        try await self.send(.inProgress)
    }

    private func send(_ ack: JetStreamAck) async throws {
        guard let reply = self.message.replyTo else { return }
        try await self.connection.publish(subject: reply, payload: ByteBuffer(string: ack.body))
    }
}

/// The bodies of the acknowledgements JetStream understands on a delivery's reply subject.
public enum JetStreamAck: Sendable, Hashable {
    case ack
    case nak(delay: Duration?)
    case term
    case inProgress

    /// `+ACK`, `-NAK` (with `{"delay": nanoseconds}`), `+TERM`, `+WPI`.
    public var body: String {
        switch self {
        case .ack: return "+ACK"
        case .nak(let delay?): return "-NAK {\"delay\":\(delay.nanoseconds)}"
        case .nak(nil): return "-NAK"
        case .term: return "+TERM"
        case .inProgress: return "+WPI"
        }
    }
}
