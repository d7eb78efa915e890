import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A connection to a NATS server (or cluster), with reconnect, subscriptions and request/reply.
///
/// Thread-safe; every method may be called from any task. Publishes are encoded into one batch buffer and
/// written by the event loop in as few system calls as possible. While reconnecting, publishes are kept (up to
/// ``NATSConnectionOptions/reconnectBufferSize``) and sent once a new connection is up, after the replayed
/// subscriptions. Outstanding requests fail with ``NATSError/Code/connectionLost`` on a disconnect.
public final class NATSConnection: Sendable {
    let options: NATSConnectionOptions
    let logger: Logger
    let eventLoop: any EventLoop
    let inboxPrefix: String
    let state: NIOLockedValueBox<State>
    let tlsContext: NIOLockedValueBox<NIOSSLContext?>

    /// Once this many bytes wait in the batch buffer, `publish` waits for a flush (backpressure).
    static let outboundHighWatermark = 4 * 1024 * 1024

    struct ChannelRef: Sendable {
        var channel: any Channel
        var handler: NIOLoopBound<NATSChannelHandler>
        var generation: UInt64
        var address: NATSServerAddress
    }

    /// A request waiting for its reply, with its own timeout timer.
    struct PendingRequest {
        var promise: EventLoopPromise<NATSMessage>
        var timeout: Scheduled<Void>?

        /// Completes with `message`, or with ``NATSError/Code/noResponders`` for a 503 status.
        func succeed(_ message: NATSMessage) {
            self.timeout?.cancel()
            if message.status?.code == NATSStatus.noRespondersCode {
                self.promise.fail(NATSError(.noResponders, "no responders on the requested subject"))
            } else {
                self.promise.succeed(message)
            }
        }

        func fail(_ error: any Error) {
            self.timeout?.cancel()
            self.promise.fail(error)
        }
    }

    struct SubscriptionEntry {
        var subject: String
        var queue: String?
        var continuation: AsyncStream<NATSMessage>.Continuation
    }

    enum Phase {
        case connecting
        case connected(ChannelRef)
        case reconnecting
        case closed
    }

    struct State {
        var phase: Phase = .connecting
        var generation: UInt64 = 0
        var lastClosedGeneration: UInt64 = 0
        var serverInfo: NATSServerInfo?
        var servers: [NATSServerAddress]
        var outbound = ByteBuffer()
        var drainScheduled = false
        var nextSID: UInt64 = 0
        var subscriptions: [UInt64: SubscriptionEntry] = [:]
        var inboxSID: UInt64?
        var pendingRequests: [String: PendingRequest] = [:]
        /// Outstanding acknowledged (JetStream) publishes, in publish order.
        var acks = AckTable()
        var ackSweepScheduled = false
        var nextToken: UInt64 = 0
        var observers: [UInt64: AsyncStream<NATSConnectionEvent>.Continuation] = [:]
        var nextObserver: UInt64 = 0
        var reconnectTask: Task<Void, Never>?
        var droppedMessages: Int = 0
    }

    private init(options: NATSConnectionOptions, logger: Logger, eventLoop: any EventLoop) {
        self.options = options
        self.logger = logger
        self.eventLoop = eventLoop
        self.inboxPrefix = "_INBOX." + Self.randomToken(length: 22)
        self.state = NIOLockedValueBox(State(servers: options.servers))
        self.tlsContext = NIOLockedValueBox(nil)
    }

    /// Connects to the first reachable server of `options.servers` (each tried once, in order).
    ///
    /// Fails with the error of the last server tried, e.g. ``NATSError/Code/authorizationViolation`` or
    /// ``NATSError/Code/tlsFailure``; never waits longer than `connectTimeout` per server.
    public static func connect(
        options: NATSConnectionOptions,
        logger: Logger = Logger(label: "nats", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws -> NATSConnection {
        let connection = NATSConnection(
            options: options, logger: logger, eventLoop: MultiThreadedEventLoopGroup.singleton.next())
        var lastError: any Error = NATSError(.connectionFailed, "no server to connect to")
        for address in options.servers {
            do {
                let ref = try await connection.establish(to: address)
                if connection.commitConnection(ref, reconnect: false) {
                    connection.emit(.connected)
                    return connection
                }
                lastError = NATSError(.connectionFailed, "connection to \(address) closed right after the handshake")
            } catch {
                logger.debug(
                    "NATS connect attempt failed", metadata: ["nats.server": "\(address)", "nats.error": "\(error)"])
                lastError = error
            }
        }
        connection.state.withLockedValue { $0.phase = .closed }
        throw lastError
    }

    /// The INFO of the server currently (or last) connected.
    public var serverInfo: NATSServerInfo? {
        self.state.withLockedValue { $0.serverInfo }
    }

    /// The largest payload (headers included) the current server accepts.
    public var maxPayload: Int {
        self.serverInfo?.maxPayload ?? 1024 * 1024
    }

    /// The servers tried when reconnecting: the configured ones, then those learnt from INFO `connect_urls`.
    public var knownServers: [NATSServerAddress] {
        self.state.withLockedValue { $0.servers }
    }

    /// The server of the current connection, if connected.
    public var connectedServer: NATSServerAddress? {
        self.state.withLockedValue {
            if case .connected(let ref) = $0.phase { return ref.address }
            return nil
        }
    }

    /// Whether a connection is up right now.
    public var isConnected: Bool {
        self.state.withLockedValue {
            if case .connected = $0.phase { return true }
            return false
        }
    }

    /// A new sequence of state changes from now on; it ends when the connection closes.
    ///
    /// When the connection is up at the time of the call, the sequence starts with `.connected`.
    public var stateChanges: AsyncStream<NATSConnectionEvent> {
        let (stream, continuation) = AsyncStream<NATSConnectionEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let closed: Bool = self.state.withLockedValue { state in
            if case .closed = state.phase { return true }
            state.nextObserver += 1
            let id = state.nextObserver
            state.observers[id] = continuation
            continuation.onTermination = { [weak self] _ in
                self?.state.withLockedValue { _ = $0.observers.removeValue(forKey: id) }
            }
            if case .connected = state.phase {
                continuation.yield(.connected)
            }
            return false
        }
        if closed {
            continuation.yield(.closed)
            continuation.finish()
        }
        return stream
    }

    // MARK: Publishing

    /// Publishes a message (fire and forget; use ``flush(timeout:)`` to know the server has it).
    ///
    /// Throws ``NATSError/Code/payloadTooLarge`` before sending when headers + payload exceed the server's
    /// `max_payload`, ``NATSError/Code/invalidSubject`` for an empty subject or one with whitespace.
    public func publish(
        subject: String,
        replyTo: String? = nil,
        headers: NATSHeaders? = nil,
        payload: ByteBuffer = ByteBuffer()
    ) async throws {
        try Self.validateSubject(subject)
        if let replyTo { try Self.validateSubject(replyTo) }
        try Self.validateHeaders(headers)
        let backlog = try self.enqueue(
            .publish(subject: subject, replyTo: replyTo, headers: headers, payload: payload),
            messageSize: NATSCommandEncoder.payloadSize(headers: headers, payload: payload))
        if backlog > Self.outboundHighWatermark {
            try await self.flush()
        }
    }

    /// Publishes `payload` given as bytes.
    public func publish(subject: String, headers: NATSHeaders? = nil, bytes: some Sequence<UInt8>) async throws {
        try await self.publish(subject: subject, headers: headers, payload: ByteBuffer(bytes: bytes))
    }

    /// Sends everything published so far and waits until the server answered a PING sent after it.
    public func flush(timeout: Duration? = nil) async throws {
        guard let ref = self.currentChannel() else {
            throw self.notConnectedError()
        }
        let promise = self.eventLoop.makePromise(of: Void.self)
        let deadline = timeout ?? self.options.requestTimeout
        let scheduled = self.eventLoop.scheduleTask(in: deadline.timeAmount) {
            promise.fail(NATSError(.timeout, "flush not answered within \(deadline)"))
        }
        ref.channel.eventLoop.execute {
            ref.handler.value.flush(promise: promise)
        }
        defer { scheduled.cancel() }
        try await promise.futureResult.get()
    }

    // MARK: Subscriptions

    /// Subscribes to `subject` (wildcards allowed), optionally in a queue group.
    public func subscribe(subject: String, queue: String? = nil) async throws -> NATSSubscription {
        try Self.validateSubject(subject)
        if let queue { try Self.validateSubject(queue) }
        let (stream, continuation) = AsyncStream<NATSMessage>.makeStream(
            bufferingPolicy: .bufferingOldest(self.options.subscriptionBufferLimit))
        let sid: UInt64 = try self.state.withLockedValue { state in
            if case .closed = state.phase {
                throw NATSError(.connectionClosed, "connection is closed")
            }
            state.nextSID += 1
            state.subscriptions[state.nextSID] = SubscriptionEntry(
                subject: subject, queue: queue, continuation: continuation)
            return state.nextSID
        }
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination {
                self?.removeSubscription(sid: sid)
            }
        }
        try self.enqueue(.subscribe(subject: subject, queue: queue, sid: sid))
        return NATSSubscription(sid: sid, subject: subject, queue: queue, stream: stream, connection: self)
    }

    /// Unsubscribes; the subscription's sequence ends after messages already received.
    public func unsubscribe(_ subscription: NATSSubscription) async throws {
        self.removeSubscription(sid: subscription.sid)
    }

    func removeSubscription(sid: UInt64) {
        let entry = self.state.withLockedValue { $0.subscriptions.removeValue(forKey: sid) }
        guard let entry else { return }
        _ = try? self.enqueue(.unsubscribe(sid: sid, max: nil))
        entry.continuation.finish()
    }

    // MARK: Closing

    /// Stops every subscription, waits for outstanding requests and published messages, then closes.
    public func drain(timeout: Duration? = nil) async throws {
        let deadline = timeout ?? self.options.requestTimeout
        let sids = self.state.withLockedValue { Array($0.subscriptions.keys) }
        for sid in sids {
            _ = try? self.enqueue(.unsubscribe(sid: sid, max: nil))
        }
        var drainError: (any Error)?
        do {
            try await self.flush(timeout: deadline)
        } catch {
            drainError = error
        }
        let entries = self.state.withLockedValue { state in
            let entries = sids.compactMap { state.subscriptions.removeValue(forKey: $0) }
            return entries
        }
        for entry in entries {
            entry.continuation.finish()
        }
        let start = ContinuousClock.now
        while self.state.withLockedValue({ !$0.pendingRequests.isEmpty || !$0.acks.isEmpty }),
            ContinuousClock.now - start < deadline
        {
            try? await Task.sleep(for: .milliseconds(5))
        }
        await self.close()
        if let drainError {
            throw drainError
        }
    }

    /// Closes the connection now; outstanding requests fail with ``NATSError/Code/connectionClosed``.
    public func close() async {
        let reason = NATSError(.connectionClosed, "connection closed by the application")
        let (ref, pending, acks, subscriptions, observers, task) = self.state.withLockedValue { state in
            var ref: ChannelRef?
            if case .connected(let current) = state.phase { ref = current }
            state.phase = .closed
            let result = (
                ref, Array(state.pendingRequests.values), state.acks.removeAll(), Array(state.subscriptions.values),
                Array(state.observers.values), state.reconnectTask
            )
            state.pendingRequests.removeAll()
            state.subscriptions.removeAll()
            state.observers.removeAll()
            state.reconnectTask = nil
            state.outbound.clear()
            return result
        }
        task?.cancel()
        for request in pending {
            request.fail(reason)
        }
        for slot in acks {
            slot.complete(.failure(reason))
        }
        for entry in subscriptions {
            entry.continuation.finish()
        }
        if let ref {
            ref.channel.eventLoop.execute {
                ref.handler.value.drainOutbound()
                ref.handler.value.close(reason: reason)
            }
            try? await ref.channel.closeFuture.get()
        }
        for observer in observers {
            observer.yield(.closed)
            observer.finish()
        }
    }
}
