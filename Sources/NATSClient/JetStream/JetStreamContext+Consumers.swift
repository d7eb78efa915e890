import Foundation
import NIOCore

/// A pull consumer refused or ended a pull request for good: `409 Consumer Deleted`, `409 Consumer is push
/// based`, a request over the consumer's limits, or any other status a pull does not expect.
public struct JetStreamPullError: Error, Sendable, Equatable, CustomStringConvertible {
    public var stream: String
    public var consumer: String
    /// The status code (`409`, ...).
    public var code: Int
    /// The status description (`Consumer Deleted`, ...).
    public var statusDescription: String

    public init(stream: String, consumer: String, code: Int, statusDescription: String) {
        self.stream = stream
        self.consumer = consumer
        self.code = code
        self.statusDescription = statusDescription
    }

    public var description: String {
        "JetStreamPullError(\(self.stream)/\(self.consumer), \(self.code)): \(self.statusDescription)"
    }
}

/// The body of `$JS.API.CONSUMER.MSG.NEXT`: how many messages, and how long the request may wait.
public struct PullRequest: Sendable, Hashable, Encodable {
    public var batch: Int
    /// The server ends the request after this long (`408`); `nil` for never.
    public var expires: Duration?
    /// Answer at once: the messages there are, or `404` when there are none.
    public var noWait: Bool
    /// While the request waits with nothing to deliver, the server sends a heartbeat this often.
    public var idleHeartbeat: Duration?

    public init(batch: Int, expires: Duration? = nil, noWait: Bool = false, idleHeartbeat: Duration? = nil) {
        self.batch = batch
        self.expires = expires
        self.noWait = noWait
        self.idleHeartbeat = idleHeartbeat
    }

    enum CodingKeys: String, CodingKey {
        case batch
        case expires
        case noWait = "no_wait"
        case idleHeartbeat = "idle_heartbeat"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.batch, forKey: .batch)
        try container.encodeIfPresent(self.expires?.nanoseconds, forKey: .expires)
        if self.noWait { try container.encode(true, forKey: .noWait) }
        try container.encodeIfPresent(self.idleHeartbeat?.nanoseconds, forKey: .idleHeartbeat)
    }
}

extension JetStreamAPIError {
    /// Consumer not found.
    public static let consumerNotFound = 10014
}

/// Pull consumers: create, look up, delete, fetch.
extension JetStreamContext {
    /// Creates a consumer on `stream`: a durable one (`$JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>`)
    /// when `config.durableName` is set, else an ephemeral one (`$JS.API.CONSUMER.CREATE.<stream>`), which
    /// the server removes once no pull request came for its inactive threshold.
    ///
    /// Creating a durable consumer that exists with the same configuration returns it; with another
    /// configuration the server refuses (``JetStreamAPIError``).
    public func createConsumer(stream: String, config: ConsumerConfig) async throws -> ConsumerInfo {
        struct Request: Encodable {
            var streamName: String
            var config: ConsumerConfig

            enum CodingKeys: String, CodingKey {
                case streamName = "stream_name"
                case config
            }
        }
        try Self.validateName(stream, what: "stream")
        let api: String
        if let durable = config.durableName {
            try Self.validateName(durable, what: "consumer")
            api = "CONSUMER.DURABLE.CREATE." + stream + "." + durable
        } else {
            api = "CONSUMER.CREATE." + stream
        }
        let body = try JSONEncoder().encode(Request(streamName: stream, config: config))
        return try await self.apiRequest(api, body: body, as: ConsumerInfo.self)
    }

    /// The consumer's configuration and state; throws ``JetStreamAPIError`` (err_code 10014) when it does not
    /// exist.
    public func consumerInfo(stream: String, name: String) async throws -> ConsumerInfo {
        try Self.validateName(stream, what: "stream")
        try Self.validateName(name, what: "consumer")
        return try await self.apiRequest("CONSUMER.INFO." + stream + "." + name, body: nil, as: ConsumerInfo.self)
    }

    /// Deletes a consumer; its waiting pull requests end with `409 Consumer Deleted`.
    public func deleteConsumer(stream: String, name: String) async throws {
        struct Deleted: Decodable { var success: Bool }
        try Self.validateName(stream, what: "stream")
        try Self.validateName(name, what: "consumer")
        _ = try await self.apiRequest("CONSUMER.DELETE." + stream + "." + name, body: nil, as: Deleted.self)
    }

    /// Sends one pull request and collects its messages: until `request.batch` arrived, the server ended
    /// the request (`404` with `noWait`, `408` at `expires`), or — when the server said nothing at all —
    /// `expires` (or the context's timeout) plus a margin passed, which throws ``JetStreamAPIError`` (err_code
    /// 10014) when the consumer does not exist (the server ignores such pulls) and ``NATSError/Code/timeout``
    /// otherwise.
    ///
    /// Heartbeats are skipped. Throws ``JetStreamPullError`` when the consumer refuses pulls (deleted, push
    /// based, a request over its limits) and ``NATSError/Code/noResponders`` when JetStream does not answer.
    public func fetch(stream: String, consumer: String, _ request: PullRequest) async throws -> [JetStreamMessage] {
        let inbox = NATSConnection.newInbox()
        let subscription = try await self.connection.subscribe(subject: inbox)
        var answered = false
        let wait = (request.expires ?? self.timeout) + max(.seconds(1), (request.idleHeartbeat ?? .zero) * 2)
        let watchdog = Task { [connection = self.connection] in
            try? await Task.sleep(for: wait)
            connection.removeSubscription(sid: subscription.sid)
        }
        defer {
            watchdog.cancel()
            self.connection.removeSubscription(sid: subscription.sid)
        }
        try await self.connection.publish(
            subject: self.nextMessageSubject(stream: stream, consumer: consumer), replyTo: inbox,
            payload: ByteBuffer(bytes: try JSONEncoder().encode(request)))
        var messages: [JetStreamMessage] = []
        for await message in subscription {
            answered = true
            switch PullStatus(message) {
            case .message(let metadata):
                messages.append(JetStreamMessage(message: message, metadata: metadata, connection: self.connection))
                if messages.count >= request.batch { return messages }
            case .heartbeat, .unexpected:
                continue
            case .requestEnded:
                return messages
            case .consumerFailed(let code, let description):
                throw JetStreamPullError(stream: stream, consumer: consumer, code: code, statusDescription: description)
            case .noResponders:
                throw NATSError(.noResponders, "no consumer \(consumer) on stream \(stream) answered the pull")
            }
        }
        if Task.isCancelled { throw CancellationError() }
        if !answered {
            // The server ignores a pull for a consumer it does not have: say so if that is why.
            _ = try await self.consumerInfo(stream: stream, name: consumer)
            throw NATSError(.timeout, "pull from \(stream)/\(consumer) not answered within \(wait)")
        }
        return messages
    }

    /// The messages of `consumer` as they come: pull requests kept outstanding, renewed when they expire,
    /// asked again after a reconnect or when heartbeats stop (see ``PullFlow``).
    public func messages(
        stream: String, consumer: String, settings: PullFlow.Settings = PullFlow.Settings(),
        onEvent: (@Sendable (PullConsumerEvent) -> Void)? = nil
    ) -> PullConsumerMessages {
        PullConsumerMessages(context: self, stream: stream, consumer: consumer, settings: settings, onEvent: onEvent)
    }

    func nextMessageSubject(stream: String, consumer: String) -> String {
        self.apiPrefix + ".CONSUMER.MSG.NEXT." + stream + "." + consumer
    }

    /// Stream and consumer names become subject tokens: no dots, wildcards or whitespace.
    static func validateName(_ name: String, what: String) throws {
        let invalid =
            name.isEmpty
            || name.unicodeScalars.contains { $0 == "." || $0 == "*" || $0 == ">" || $0.properties.isWhitespace }
        if invalid {
            throw NATSError(
                .invalidSubject, "\(what) name '\(name.prefix(64))' is empty or has '.', '*', '>' or spaces")
        }
    }
}

extension NATSConnection {
    /// A new unique inbox subject (`_INBOX.<random>`).
    public static func newInbox() -> String {
        "_INBOX." + Self.randomToken(length: 22)
    }
}
