import Foundation
import NIOCore

/// Something a ``PullConsumerMessages`` sequence went through without ending.
public enum PullConsumerEvent: Sendable, Hashable {
    /// The connection dropped; requests are asked again once it is back.
    case disconnected
    /// The connection is back and the requests were asked again.
    case reconnected
    /// Nothing arrived for two heartbeat intervals; the requests were asked again.
    case heartbeatsMissed
    /// Nobody answered a request (JetStream starting up, or the consumer is gone); checking and retrying.
    case consumerUnavailable
}

/// The messages of a pull consumer as an `AsyncSequence`, with requests kept outstanding (``PullFlow``).
///
/// Survives reconnects and server restarts as long as the consumer exists (a durable one, or an ephemeral
/// one the server kept): lost requests are asked again. Ends by throwing ``JetStreamPullError`` when the
/// consumer is deleted or refuses pulls, ``JetStreamAPIError`` (err_code 10014) when a check after
/// missed heartbeats or an unanswered request finds the consumer gone (the server ignores pulls for a
/// consumer it does not have), and ``NATSError/Code/connectionClosed`` when the connection
/// closes; ends (`nil`) when the iterating task is cancelled. Dropping the iterator stops it.
public struct PullConsumerMessages: AsyncSequence, Sendable {
    public typealias Element = JetStreamMessage

    let context: JetStreamContext
    let stream: String
    let consumer: String
    let settings: PullFlow.Settings
    let onEvent: (@Sendable (PullConsumerEvent) -> Void)?

    public func makeAsyncIterator() -> Iterator {
        Iterator(driver: PullDriver(sequence: self))
    }

    /// Iterates the messages.
    public struct Iterator: AsyncIteratorProtocol {
        let driver: PullDriver

        public mutating func next() async throws -> JetStreamMessage? {
            try await self.driver.next()
        }
    }
}

/// Runs one iteration of ``PullConsumerMessages``: the inbox subscription, a ticker and the connection's
/// state changes feed one stream of inputs that drives a ``PullFlow``. Used only by the iterating task.
final class PullDriver {
    enum Input: Sendable {
        case message(NATSMessage)
        case tick
        case connection(NATSConnectionEvent)
        case subscriptionEnded
    }

    private let sequence: PullConsumerMessages
    private var connection: NATSConnection { self.sequence.context.connection }
    private let inbox = NATSConnection.newInbox()
    private var flow: PullFlow
    private var inputs: AsyncStream<Input>.Iterator?
    private var feeders: [Task<Void, Never>] = []
    private var subscription: NATSSubscription?
    private let requestTemplate: PullRequest

    init(sequence: PullConsumerMessages) {
        self.sequence = sequence
        self.flow = PullFlow(settings: sequence.settings, now: .now)
        self.requestTemplate = PullRequest(
            batch: sequence.settings.batch, expires: sequence.settings.expires,
            idleHeartbeat: sequence.settings.heartbeat)
    }

    deinit {
        for feeder in self.feeders { feeder.cancel() }
        if let subscription { self.sequence.context.connection.removeSubscription(sid: subscription.sid) }
    }

    func next() async throws -> JetStreamMessage? {
        if self.inputs == nil { try await self.start() }
        while !Task.isCancelled {
            guard let input = await self.inputs?.next() else { return nil }
            let now = ContinuousClock.now
            switch input {
            case .message(let message):
                switch PullStatus(message) {
                case .message(let metadata):
                    try await self.perform(self.flow.received(now: now))
                    return JetStreamMessage(message: message, metadata: metadata, connection: self.connection)
                case .heartbeat:
                    self.flow.heartbeat(now: now)
                case .requestEnded:
                    guard let id = Self.pullID(of: message.subject) else { continue }
                    try await self.perform(self.flow.ended(id: id, now: now))
                case .consumerFailed(let code, let description):
                    throw JetStreamPullError(
                        stream: self.sequence.stream, consumer: self.sequence.consumer, code: code,
                        statusDescription: description)
                case .noResponders:
                    self.flow.unavailable(now: now)
                    self.sequence.onEvent?(.consumerUnavailable)
                    try await self.checkConsumerExists()
                case .unexpected:
                    continue
                }
            case .tick:
                switch self.flow.tick(now: now) {
                case .quiet(let action):
                    try await self.perform(action)
                case .stalled(let action):
                    // The server ignores pulls for a consumer that does not exist: silence may mean that.
                    self.sequence.onEvent?(.heartbeatsMissed)
                    try await self.checkConsumerExists()
                    try await self.perform(action)
                }
            case .connection(.reconnected):
                self.sequence.onEvent?(.reconnected)
                try await self.perform(self.flow.reconnected(now: now))
            case .connection(.disconnected):
                self.sequence.onEvent?(.disconnected)
            case .connection(.closed), .subscriptionEnded:
                throw NATSError(.connectionClosed, "connection closed while pulling from \(self.sequence.consumer)")
            case .connection(.connected):
                continue
            }
        }
        return nil
    }

    private func start() async throws {
        let subscription = try await self.connection.subscribe(subject: self.inbox + ".*")
        self.subscription = subscription
        let (stream, continuation) = AsyncStream<Input>.makeStream()
        self.inputs = stream.makeAsyncIterator()
        let events = self.connection.stateChanges
        let tick = min(self.sequence.settings.heartbeat, .seconds(1))
        self.feeders = [
            Task {
                for await message in subscription { continuation.yield(.message(message)) }
                continuation.yield(.subscriptionEnded)
            },
            Task {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: tick) } catch { return }
                    continuation.yield(.tick)
                }
            },
            Task {
                for await event in events { continuation.yield(.connection(event)) }
            },
        ]
        try await self.perform(self.flow.refill(now: .now))
    }

    private func perform(_ action: PullFlow.Action) async throws {
        guard case .pull(let id, let batch) = action else { return }
        var request = self.requestTemplate
        request.batch = batch
        try await self.connection.publish(
            subject: self.sequence.context.nextMessageSubject(
                stream: self.sequence.stream, consumer: self.sequence.consumer),
            replyTo: self.inbox + "." + String(id), payload: ByteBuffer(bytes: try JSONEncoder().encode(request)))
    }

    /// After a `503`: a consumer that is gone ends the sequence; anything else (JetStream not ready yet, a
    /// timeout) is retried once the flow's pause is over.
    private func checkConsumerExists() async throws {
        do {
            _ = try await self.sequence.context.consumerInfo(
                stream: self.sequence.stream, name: self.sequence.consumer)
        } catch let error as JetStreamAPIError
            where error.errorCode == JetStreamAPIError.consumerNotFound
            || error.errorCode == JetStreamAPIError.streamNotFound
        {
            throw error
        } catch {
            return
        }
    }

    static func pullID(of subject: String) -> UInt64? {
        guard let dot = subject.lastIndex(of: ".") else { return nil }
        return UInt64(subject[subject.index(after: dot)...])
    }
}
