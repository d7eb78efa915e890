/// Why one delivery attempt of one outbox message failed, and whether retrying can ever help.
///
/// Poison failures (the message can never be accepted as it is) park the message; transient ones make
/// the worker go back to the first unacknowledged message, back off, and feed the circuit breaker.
public struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, Hashable {
        /// No acknowledgement within the timeout.
        case timeout
        /// The connection was lost or is not established.
        case disconnected
        /// Nobody listens on the subject (JetStream: the stream leader may be being elected).
        case noResponders = "no_responders"
        /// The payload exceeds the server's `max_payload`: it can never be published.
        case payloadTooLarge = "payload_too_large"
        /// The credentials may not publish to the subject.
        case permissionDenied = "permission_denied"
        /// JetStream answered with an API error that a retry can fix (503, stream not found, …).
        case jetStreamTransient = "jetstream_transient"
        /// JetStream answered with an API error that no retry can fix.
        case jetStreamRejected = "jetstream_rejected"
        /// Sealing (compression or encryption) failed for this message.
        case sealing
        /// The stream could not be made ready.
        case streamSetup = "stream_setup"
        /// Anything else.
        case other
    }

    public var code: Code
    /// A human-readable explanation; never holds payloads or secrets.
    public var message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// Whether this message can never be delivered as it is (it is parked instead of retried).
    public var isPoison: Bool {
        switch code {
        case .payloadTooLarge, .permissionDenied, .jetStreamRejected, .sealing:
            true
        case .timeout, .disconnected, .noResponders, .jetStreamTransient, .streamSetup, .other:
            false
        }
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Classifies a JetStream API error (`{"error":{"code":…,"err_code":…,"description":…}}`).
    ///
    /// Transient: HTTP-like codes 408, 429, 500 and 503 (no leader, JetStream temporarily unavailable),
    /// and the error codes for a missing stream (10059, the worker re-ensures it), insufficient
    /// resources (10023) and storage/store failures (10047, 10077) — all can heal without changing the
    /// message. Everything else (e.g. 10054 message too large, 400 bad request) is a property of the
    /// message and never heals: poison.
    public static func jetStreamAPIError(code: Int, errorCode: Int?, description: String) -> DeliveryFailure {
        let transientStatus: Set<Int> = [408, 429, 500, 503]
        let transientErrorCodes: Set<Int> = [10023, 10047, 10059, 10077]
        let transient = transientStatus.contains(code) || errorCode.map { transientErrorCodes.contains($0) } == true
        let detail = "JetStream API error \(code)" + (errorCode.map { " (err_code \($0))" } ?? "") + ": \(description)"
        return DeliveryFailure(code: transient ? .jetStreamTransient : .jetStreamRejected, message: detail)
    }
}
