/// What arrived on a pull consumer's inbox: a message, or one of the status messages the server sends
/// in answer to pull requests (`$JS.API.CONSUMER.MSG.NEXT`).
///
/// Status messages carry no payload and a status line: `100 Idle Heartbeat` while a request waits
/// with nothing to deliver, `404 No Messages` for a `no_wait` request that found nothing, `408 Request
/// Timeout` when a request expired (or was replaced), `409 …` when the server ended a request
/// (`Exceeded MaxWaiting`, `Message Size Exceeds MaxBytes`, `Leadership Change`, `Server Shutdown`) or the consumer is no longer
/// usable (`Consumer Deleted`, `Consumer is push based`, limits of the request exceeded), and `503` when
/// nobody answered the request: the consumer (or JetStream) is not there.
public enum PullStatus: Sendable, Hashable {
    /// A stored message with its metadata.
    case message(JetStreamMessageMetadata)
    /// The server is alive and the request still waits.
    case heartbeat
    /// A request ended without (more) messages: 404, 408, or a 409 that only ends this request.
    /// `pendingMessages` is how many of its batch were left (from `Nats-Pending-Messages`), when known.
    case requestEnded(code: Int, pendingMessages: Int?)
    /// The consumer cannot serve pulls any more (deleted, push based, or the request asks for too much).
    case consumerFailed(code: Int, description: String)
    /// No responder for the pull request: the consumer or JetStream is not available right now.
    case noResponders
    /// Neither a status nor a JetStream delivery (no `$JS.ACK` reply subject); ignored.
    case unexpected(String)

    /// Classifies one message of a pull inbox.
    public init(_ message: NATSMessage) {
        guard let status = message.status else {
            if let reply = message.replyTo, let metadata = JetStreamMessageMetadata(replySubject: reply) {
                self = .message(metadata)
            } else {
                self = .unexpected("message on \(message.subject) without a JetStream reply subject")
            }
            return
        }
        let description =
            status.description.isEmpty
            ? (message.headers?.values(for: "Description").first ?? "") : status.description
        let pending = message.headers?.values(for: "Nats-Pending-Messages").first.flatMap { Int($0) }
        switch status.code {
        case 100:
            // Flow control requests only concern push consumers; a pull inbox sees heartbeats.
            self = .heartbeat
        case 404, 408:
            self = .requestEnded(code: status.code, pendingMessages: pending)
        case 409:
            let lowered = description.lowercased()
            if lowered.contains("exceeded maxwaiting") || lowered.contains("exceeds maxbytes")
                || lowered.contains("leadership change") || lowered.contains("server shutdown")
            {
                self = .requestEnded(code: 409, pendingMessages: pending)
            } else {
                self = .consumerFailed(code: 409, description: description)
            }
        case NATSStatus.noRespondersCode:
            self = .noResponders
        default:
            self = .consumerFailed(code: status.code, description: description)
        }
    }
}
