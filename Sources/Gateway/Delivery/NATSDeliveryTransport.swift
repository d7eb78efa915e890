import Foundation
import Logging
import NATSClient
import NIOCore
import Synchronization

/// How messages reach NATS (`nats.delivery`).
public enum DeliveryMode: Sendable, Hashable {
    /// Publish into a JetStream stream; delivered when the PubAck arrives (the default).
    case jetstream(JetStreamSettings)
    /// Plain request/reply; delivered when any responder answers. No responders = transient failure.
    case request
    /// Fire and forget; "delivered" once flushed to the server. Best effort: nothing proves a
    /// subscriber received it.
    case publish
}

/// The stream the gateway makes sure exists before publishing (`nats.stream`, `nats.stream_replicas`,
/// `nats.duplicate_window`).
public struct JetStreamSettings: Sendable, Hashable {
    public var streamName: String
    /// Usually `{prefix}.>`.
    public var subjects: [String]
    public var replicas: Int
    /// Dedup window for `Nats-Msg-Id`; at least 10 minutes is recommended.
    public var duplicateWindow: Duration

    public init(streamName: String, subjects: [String], replicas: Int = 1, duplicateWindow: Duration = .seconds(600)) {
        self.streamName = streamName
        self.subjects = subjects
        self.replicas = replicas
        self.duplicateWindow = duplicateWindow
    }
}

/// How the JetStream mode sends a message and waits for its PubAck. Both keep publish order equal to
/// send order and report a failure on the message it concerns, so the worker's go-back-N holds.
public enum JetStreamPublishPath: Sendable, Hashable {
    /// Our own wildcard reply inbox (``ReplyInbox``), one subscription for all acknowledgements.
    case replyInbox
    /// The default: the NATS client's pipelined ``JetStreamContext/publishPipelined(subject:payload:headers:messageID:expectations:)``.
    case pipelinedContext
}

/// ``DeliveryTransport`` over our ``NATSConnection``, for all three delivery modes.
///
/// Messages are published one after the other with a reply subject, so publish order is exactly send
/// order. With ``JetStreamPublishPath/replyInbox`` (and in request mode) the acknowledgements are
/// matched back by token on a private wildcard inbox (see ``ReplyInbox``), and losing the connection
/// fails every outstanding acknowledgement at once, so the worker rewinds without waiting for
/// timeouts; with ``JetStreamPublishPath/pipelinedContext`` the client's ``JetStreamContext`` does both.
/// The stream is ensured through ``JetStreamContext`` either way.
public final class NATSDeliveryTransport: DeliveryTransport {
    private let connection: NATSConnection
    private let mode: DeliveryMode
    private let ackTimeout: Duration
    private let publishPath: JetStreamPublishPath
    private let jetStream: JetStreamContext
    private let logger: Logger
    private let inbox: ReplyInbox
    private struct State {
        var listener: Task<Void, Never>?
        var stateWatcher: Task<Void, Never>?
        var published: UInt64 = 0
        var flushedThrough: UInt64 = 0
    }
    private let state = Mutex(State())

    /// - Parameters:
    ///   - connection: an established connection (it reconnects by itself).
    ///   - ackTimeout: how long to wait for each acknowledgement (`nats.request_timeout`).
    ///   - publishPath: how JetStream publishes wait for their acks (ignored by the other modes). The
    ///     default, the client's pipelined `JetStreamContext`, was the faster in `Benchmarks/delivery`.
    public init(
        connection: NATSConnection, mode: DeliveryMode, ackTimeout: Duration,
        publishPath: JetStreamPublishPath = .pipelinedContext, logger: Logger
    ) {
        self.connection = connection
        self.mode = mode
        self.ackTimeout = ackTimeout
        self.publishPath = publishPath
        // The worker bounds what is in flight (`delivery.max_in_flight`); the context's own window only
        // has to stay out of its way.
        self.jetStream = JetStreamContext(connection: connection, timeout: ackTimeout, maxPending: 1 << 20)
        self.logger = logger
        var random = SystemRandomNumberGenerator()
        let token = String(random.next(), radix: 36) + String(random.next(), radix: 36)
        self.inbox = ReplyInbox(prefix: "_INBOX.gw" + token)
    }

    deinit {
        let tasks = state.withLock { ($0.listener, $0.stateWatcher) }
        tasks.0?.cancel()
        tasks.1?.cancel()
    }

    /// Stops listening for acknowledgements (the connection itself is left open).
    public func stop() {
        let tasks = state.withLock { state in
            defer {
                state.listener = nil
                state.stateWatcher = nil
            }
            return (state.listener, state.stateWatcher)
        }
        tasks.0?.cancel()
        tasks.1?.cancel()
        inbox.failAll(DeliveryFailure(code: .disconnected, message: "delivery transport stopped"))
    }

    public var isConnected: Bool { connection.isConnected }

    public var connectionState: String { connection.isConnected ? "connected" : "disconnected" }

    public func prepare() async throws {
        if !usesContextPublish {
            try await startListening()
        }
        if case .jetstream(let settings) = mode {
            try await ensureStream(settings)
        }
    }

    public func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        let headers = NATSHeaders(message.headers.map { NATSHeaders.Field(name: $0.name, value: $0.value) })
        switch mode {
        case .publish:
            try await connection.publish(subject: message.subject, headers: headers, bytes: message.payload)
            let index = state.withLock { state -> UInt64 in
                state.published += 1
                return state.published
            }
            return DeliveryReceipt(
                { [self] in
                    try await self.flushCovering(index)
                    return nil
                },
                arrived: { [self] in
                    self.state.withLock { $0.flushedThrough >= index } ? .success(nil) : nil
                })
        case .jetstream where usesContextPublish:
            let pending = try await jetStream.publishPipelined(
                subject: message.subject, payload: ByteBuffer(bytes: message.payload),
                headers: headers.isEmpty ? nil : headers)
            return DeliveryReceipt(
                { try await pending.result().seq },
                arrived: { pending.outcome.map { $0.map { Optional($0.seq) } } })
        case .request, .jetstream:
            let (token, reply) = inbox.register()
            do {
                try await connection.publish(
                    subject: message.subject, replyTo: reply, headers: headers,
                    payload: ByteBuffer(bytes: message.payload))
            } catch {
                inbox.fail(token, error)
                throw error
            }
            let subject = message.subject
            let timeout = ackTimeout
            let isJetStream: Bool = if case .jetstream = mode { true } else { false }
            return DeliveryReceipt(
                { [inbox] in
                    let reply = try await inbox.wait(
                        token, timeout: timeout,
                        timeoutError: DeliveryFailure(code: .timeout, message: "no acknowledgement within \(timeout)"))
                    return try Self.interpret(reply, isJetStream: isJetStream, subject: subject)
                },
                arrived: { [inbox] in
                    inbox.take(token).map { reply in
                        Result { try Self.interpret(reply.get(), isJetStream: isJetStream, subject: subject) }
                    }
                })
        }
    }

    /// The pipelined JetStream path sends a group with the client's `publishBatch` (registered and
    /// encoded under one lock, one write); the other paths have no batch form.
    public func sendBatch(_ messages: [OutgoingMessage]) async throws -> [DeliveryReceipt]? {
        guard case .jetstream = mode, usesContextPublish else { return nil }
        var batch: [JetStreamOutgoingMessage] = []
        batch.reserveCapacity(messages.count)
        for message in messages {
            let headers = NATSHeaders(message.headers.map { NATSHeaders.Field(name: $0.name, value: $0.value) })
            batch.append(
                JetStreamOutgoingMessage(
                    subject: message.subject, payload: ByteBuffer(bytes: message.payload),
                    headers: headers.isEmpty ? nil : headers))
        }
        let acks = try await jetStream.publishBatch(batch)
        return acks.map { pending in
            DeliveryReceipt(
                { try await pending.result().seq },
                arrived: { pending.outcome.map { $0.map { Optional($0.seq) } } })
        }
    }

    public func publishUnjournaled(_ message: OutgoingMessage) async throws {
        let headers = NATSHeaders(message.headers.map { NATSHeaders.Field(name: $0.name, value: $0.value) })
        try await connection.publish(subject: message.subject, headers: headers, bytes: message.payload)
    }

    public func flush() async throws {
        try await connection.flush(timeout: ackTimeout)
    }

    public func classify(_ error: any Error) -> DeliveryFailure {
        if let failure = error as? DeliveryFailure { return failure }
        if let apiError = error as? JetStreamAPIError {
            return DeliveryFailure.jetStreamAPIError(
                code: apiError.code, errorCode: apiError.errorCode, description: apiError.errorDescription)
        }
        if let natsError = error as? NATSError {
            switch natsError.code {
            case .payloadTooLarge, .maxPayloadViolation:
                return DeliveryFailure(code: .payloadTooLarge, message: natsError.message)
            case .permissionsViolation:
                return DeliveryFailure(code: .permissionDenied, message: natsError.message)
            case .timeout:
                return DeliveryFailure(code: .timeout, message: natsError.message)
            case .noResponders:
                return DeliveryFailure(code: .noResponders, message: natsError.message)
            case .connectionLost, .connectionClosed, .connectionFailed, .staleConnection, .reconnectBufferFull:
                return DeliveryFailure(code: .disconnected, message: natsError.message)
            case .invalidSubject, .invalidHeader:
                return DeliveryFailure(code: .jetStreamRejected, message: natsError.message)
            default:
                return DeliveryFailure(code: .other, message: natsError.message)
            }
        }
        if error is CancellationError {
            return DeliveryFailure(code: .disconnected, message: "cancelled")
        }
        return DeliveryFailure(code: .other, message: "\(error)")
    }

    // MARK: - Internals

    private var usesContextPublish: Bool {
        if case .jetstream = mode { return publishPath == .pipelinedContext }
        return false
    }

    private func startListening() async throws {
        let running = state.withLock { $0.listener != nil }
        if running { return }
        let subscription = try await connection.subscribe(subject: inbox.prefix + ".*")
        let inbox = self.inbox
        let listener = Task {
            for await message in subscription {
                inbox.deliver(message)
            }
        }
        let changes = connection.stateChanges
        let logger = self.logger
        let watcher = Task {
            for await change in changes {
                if case .disconnected(let error) = change {
                    logger.warning("NATS connection lost", metadata: ["nats.error": "\(error)"])
                    inbox.failAll(DeliveryFailure(code: .disconnected, message: "connection lost: \(error.message)"))
                }
            }
        }
        let duplicate = state.withLock { state -> Bool in
            if state.listener != nil { return true }
            state.listener = listener
            state.stateWatcher = watcher
            return false
        }
        if duplicate {
            listener.cancel()
            watcher.cancel()
        }
    }

    private func flushCovering(_ index: UInt64) async throws {
        let (covered, target) = state.withLock { ($0.flushedThrough >= index, $0.published) }
        if covered { return }
        try await connection.flush(timeout: ackTimeout)
        state.withLock { $0.flushedThrough = max($0.flushedThrough, target) }
    }

    /// Creates the stream, or widens an existing one: its subjects become the union with ours and its
    /// duplicate window the larger of the two (an operator's wider settings are never narrowed).
    private func ensureStream(_ settings: JetStreamSettings) async throws {
        let name = settings.streamName
        let wanted = StreamConfig(
            name: name, subjects: settings.subjects, storage: .file, replicas: settings.replicas,
            duplicateWindow: settings.duplicateWindow)
        do {
            let existing: StreamConfig
            do {
                existing = try await jetStream.streamInfo(name: name).config
            } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
                _ = try await jetStream.createStream(wanted)
                logger.notice("created JetStream stream", metadata: ["nats.stream": "\(name)"])
                return
            }
            let subjects = Set(existing.subjects).union(settings.subjects)
            let window = max(existing.duplicateWindow, settings.duplicateWindow)
            if subjects == Set(existing.subjects) && window == existing.duplicateWindow { return }
            var updated = existing
            updated.subjects = subjects.sorted()
            updated.duplicateWindow = window
            _ = try await jetStream.updateStream(updated)
            logger.notice("updated JetStream stream subjects / duplicate window", metadata: ["nats.stream": "\(name)"])
        } catch let error as JetStreamAPIError {
            throw DeliveryFailure(
                code: .streamSetup, message: "ensuring stream \(name) failed: \(error.code) \(error.errorDescription)")
        } catch let error as NATSError where error.code == .noResponders {
            throw DeliveryFailure(code: .noResponders, message: "JetStream is not available (no responders)")
        }
    }

    /// The stream sequence in a reply to a published message (JetStream), `nil` in request mode.
    static func interpret(_ reply: NATSMessage, isJetStream: Bool, subject: String) throws -> UInt64? {
        if reply.status?.code == NATSStatus.noRespondersCode {
            throw DeliveryFailure(code: .noResponders, message: "no responders on the subject")
        }
        guard isJetStream else { return nil }
        do {
            return try JetStreamContext.decodePubAck(from: reply).seq
        } catch let error as JetStreamAPIError {
            throw DeliveryFailure.jetStreamAPIError(
                code: error.code, errorCode: error.errorCode == 0 ? nil : error.errorCode,
                description: error.errorDescription.isEmpty ? "unknown" : error.errorDescription)
        } catch {
            throw DeliveryFailure(code: .other, message: "unreadable acknowledgement on \(subject): \(error)")
        }
    }
}
