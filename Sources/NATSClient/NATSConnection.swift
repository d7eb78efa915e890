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
    private let inboxPrefix: String
    private let state: NIOLockedValueBox<State>
    private let tlsContext: NIOLockedValueBox<NIOSSLContext?>

    /// Once this many bytes wait in the batch buffer, `publish` waits for a flush (backpressure).
    private static let outboundHighWatermark = 4 * 1024 * 1024

    struct ChannelRef: Sendable {
        var channel: any Channel
        var handler: NIOLoopBound<NATSChannelHandler>
        var generation: UInt64
        var address: NATSServerAddress
    }

    struct PendingRequest {
        var promise: EventLoopPromise<NATSMessage>
        var timeout: Scheduled<Void>?
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

    private func removeSubscription(sid: UInt64) {
        let entry = self.state.withLockedValue { $0.subscriptions.removeValue(forKey: sid) }
        guard let entry else { return }
        _ = try? self.enqueue(.unsubscribe(sid: sid, max: nil))
        entry.continuation.finish()
    }

    // MARK: Request / reply

    /// Sends a request and waits for the first reply, over one shared inbox subscription.
    ///
    /// Throws ``NATSError/Code/noResponders`` as soon as the server reports that nobody listens,
    /// ``NATSError/Code/timeout`` after `timeout`, ``NATSError/Code/connectionLost`` if the connection drops, and
    /// `CancellationError` right away when the calling task is cancelled.
    public func request(
        subject: String,
        headers: NATSHeaders? = nil,
        payload: ByteBuffer = ByteBuffer(),
        timeout: Duration? = nil
    ) async throws -> NATSMessage {
        let started = try self.startRequest(
            subject: subject, headers: headers, payload: payload, timeout: timeout ?? self.options.requestTimeout)
        return try await withTaskCancellationHandler {
            try await started.future.get()
        } onCancel: {
            self.cancelRequest(token: started.token)
        }
    }

    private func cancelRequest(token: String) {
        let pending = self.state.withLockedValue { $0.pendingRequests.removeValue(forKey: token) }
        pending?.timeout?.cancel()
        pending?.promise.fail(CancellationError())
    }

    /// Starts a request; the future completes with the reply or a typed error. Used for pipelining.
    ///
    /// Registers the reply token and encodes the publish under one lock, so concurrent callers' requests go
    /// out in the order their tokens were taken.
    func startRequest(
        subject: String,
        headers: NATSHeaders?,
        payload: ByteBuffer,
        timeout: Duration
    ) throws -> (future: EventLoopFuture<NATSMessage>, token: String) {
        try Self.validateSubject(subject)
        try Self.validateHeaders(headers)
        let size = NATSCommandEncoder.payloadSize(headers: headers, payload: payload)
        let promise = self.eventLoop.makePromise(of: NATSMessage.self)
        let token: String
        let drainTarget: ChannelRef?
        do {
            (token, drainTarget) = try self.state.withLockedValue { state in
                if case .closed = state.phase {
                    throw NATSError(.connectionClosed, "connection is closed")
                }
                try Self.checkSize(size, limit: state.serverInfo?.maxPayload)
                var target: ChannelRef?
                if state.inboxSID == nil {
                    state.nextSID += 1
                    state.inboxSID = state.nextSID
                    target = try self.appendLocked(
                        .subscribe(subject: self.inboxPrefix + ".*", queue: nil, sid: state.nextSID), to: &state
                    ).drainTarget
                }
                let token = String(state.nextToken &+ 1, radix: 36)
                let appended = try self.appendLocked(
                    .publish(
                        subject: subject, replyTo: self.inboxPrefix + "." + token, headers: headers, payload: payload),
                    to: &state)
                state.nextToken &+= 1
                state.pendingRequests[token] = PendingRequest(promise: promise, timeout: nil)
                return (token, target ?? appended.drainTarget)
            }
        } catch {
            promise.fail(error)
            throw error
        }
        if let drainTarget {
            self.scheduleDrain(drainTarget)
        }
        let scheduled = self.eventLoop.scheduleTask(in: timeout.timeAmount) { [weak self] in
            guard let self else { return }
            let pending = self.state.withLockedValue { $0.pendingRequests.removeValue(forKey: token) }
            pending?.promise.fail(NATSError(.timeout, "no reply on '\(subject)' within \(timeout)"))
        }
        self.state.withLockedValue { $0.pendingRequests[token]?.timeout = scheduled }
        return (promise.futureResult, token)
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
        while self.state.withLockedValue({ !$0.pendingRequests.isEmpty }), ContinuousClock.now - start < deadline {
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
        let (ref, pending, subscriptions, observers, task) = self.state.withLockedValue { state in
            var ref: ChannelRef?
            if case .connected(let current) = state.phase { ref = current }
            state.phase = .closed
            let result = (
                ref, Array(state.pendingRequests.values), Array(state.subscriptions.values),
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
            request.timeout?.cancel()
            request.promise.fail(reason)
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

    // MARK: Internals used by the channel handler

    /// Takes the batched outgoing bytes for the channel of `generation`.
    func takeOutbound(generation: UInt64) -> ByteBuffer? {
        self.state.withLockedValue { state in
            guard case .connected(let ref) = state.phase, ref.generation == generation else { return nil }
            state.drainScheduled = false
            guard state.outbound.readableBytes > 0 else { return nil }
            let buffer = state.outbound
            state.outbound = ByteBuffer()
            return buffer
        }
    }

    func deliver(sid: UInt64, message: NATSMessage) {
        enum Target {
            case request(PendingRequest)
            case subscription(AsyncStream<NATSMessage>.Continuation)
        }
        let target: Target? = self.state.withLockedValue { state in
            if sid == state.inboxSID {
                let token = message.subject.split(separator: ".").last.map(String.init) ?? ""
                return state.pendingRequests.removeValue(forKey: token).map(Target.request)
            }
            return state.subscriptions[sid].map { Target.subscription($0.continuation) }
        }
        switch target {
        case .request(let pending):
            pending.timeout?.cancel()
            if message.status?.code == NATSStatus.noRespondersCode {
                pending.promise.fail(NATSError(.noResponders, "no responders on the requested subject"))
            } else {
                pending.promise.succeed(message)
            }
        case .subscription(let continuation):
            if case .dropped = continuation.yield(message) {
                let dropped = self.state.withLockedValue { state in
                    state.droppedMessages += 1
                    return state.droppedMessages
                }
                self.logger.warning(
                    "NATS subscription buffer full, message dropped",
                    metadata: ["nats.sid": "\(sid)", "nats.dropped_total": "\(dropped)"])
            }
        case nil:
            break
        }
    }

    func serverInfoUpdated(_ info: NATSServerInfo) {
        let learnt = (info.connectURLs ?? []).compactMap { try? NATSServerAddress.parse($0) }
        self.state.withLockedValue { state in
            state.serverInfo = info
            for var address in learnt
            where !state.servers.contains(where: { $0.host == address.host && $0.port == address.port }) {
                address.tls = state.servers.first?.tls ?? false
                state.servers.append(address)
            }
        }
        if info.lameDuckMode == true {
            self.logger.info("NATS server entered lame-duck mode", metadata: ["nats.server_id": "\(info.serverID)"])
        }
    }

    func channelClosed(generation: UInt64, reason: NATSError) {
        let (wasCurrent, pending, startReconnect) = self.state.withLockedValue {
            state -> (Bool, [PendingRequest], Bool) in
            state.lastClosedGeneration = max(state.lastClosedGeneration, generation)
            guard case .connected(let ref) = state.phase, ref.generation == generation else {
                return (false, [], false)
            }
            let pending = Array(state.pendingRequests.values)
            state.pendingRequests.removeAll()
            state.drainScheduled = false
            if self.options.reconnect.enabled {
                state.phase = .reconnecting
                return (true, pending, true)
            }
            state.phase = .closed
            return (true, pending, false)
        }
        guard wasCurrent else { return }
        self.logger.warning("NATS connection lost", metadata: ["nats.error": "\(reason)"])
        let lost = NATSError(.connectionLost, "connection lost before the reply arrived", underlying: reason)
        for request in pending {
            request.timeout?.cancel()
            request.promise.fail(lost)
        }
        self.emit(.disconnected(reason))
        if startReconnect {
            let task = Task { await self.reconnectLoop() }
            self.state.withLockedValue { $0.reconnectTask = task }
        } else {
            Task { await self.close() }
        }
    }

    func makeTLSContext() throws -> NIOSSLContext {
        try self.tlsContext.withLockedValue { cached in
            if let cached { return cached }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = .fullVerification
            if let tls = self.options.tls {
                if let ca = tls.caCertificatePath {
                    configuration.trustRoots = .file(ca)
                }
                if let certificate = tls.clientCertificatePath, let key = tls.clientKeyPath {
                    configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map {
                        .certificate($0)
                    }
                    configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            }
            let context = try NIOSSLContext(configuration: configuration)
            cached = context
            return context
        }
    }

    func connectPayload(info: NATSServerInfo, address: NATSServerAddress) throws -> String {
        try ConnectPayload.make(options: self.options, info: info, address: address)
    }

    // MARK: Connection establishment

    private func establish(to address: NATSServerAddress) async throws -> ChannelRef {
        let generation = self.state.withLockedValue { state in
            state.generation += 1
            return state.generation
        }
        let promise = self.eventLoop.makePromise(of: HandshakeResult.self)
        let maxInbound = self.options.maxInboundMessageSize
        let logger = self.logger
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(self.options.connectTimeout.timeAmount)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = NATSChannelHandler(
                        connection: self, generation: generation, address: address, readyPromise: promise,
                        logger: logger)
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(NATSProtocolDecoder(maxPayloadSize: maxInbound)))
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let connectTimeout = self.options.connectTimeout
        let timeout = self.eventLoop.scheduleTask(in: connectTimeout.timeAmount) {
            promise.fail(NATSError(.timeout, "handshake with \(address) not done within \(connectTimeout)"))
        }
        defer { timeout.cancel() }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            promise.fail(error)
            throw NATSError(.connectionFailed, "cannot connect to \(address)", underlying: error)
        }
        do {
            let result = try await promise.futureResult.get()
            self.state.withLockedValue { $0.serverInfo = result.info }
            self.serverInfoUpdated(result.info)
            return ChannelRef(channel: channel, handler: result.handler, generation: generation, address: address)
        } catch {
            try? await channel.close()
            throw error
        }
    }

    /// Makes `ref` the current channel, replaying subscriptions before anything buffered.
    private func commitConnection(_ ref: ChannelRef, reconnect: Bool) -> Bool {
        let committed: Bool = self.state.withLockedValue { state in
            let expected: Bool
            switch state.phase {
            case .connecting: expected = !reconnect
            case .reconnecting: expected = reconnect
            case .connected, .closed: expected = false
            }
            guard expected, ref.generation > state.lastClosedGeneration else { return false }
            var replay = ByteBuffer()
            if reconnect {
                for (sid, entry) in state.subscriptions.sorted(by: { $0.key < $1.key }) {
                    NATSCommandEncoder.write(
                        .subscribe(subject: entry.subject, queue: entry.queue, sid: sid), into: &replay)
                }
                if let inboxSID = state.inboxSID {
                    NATSCommandEncoder.write(
                        .subscribe(subject: self.inboxPrefix + ".*", queue: nil, sid: inboxSID), into: &replay)
                }
            }
            replay.writeBuffer(&state.outbound)
            state.outbound = replay
            state.phase = .connected(ref)
            state.drainScheduled = true
            return true
        }
        guard committed else {
            ref.channel.close(promise: nil)
            return false
        }
        ref.channel.eventLoop.execute {
            ref.handler.value.drainOutbound()
        }
        return true
    }

    private func reconnectLoop() async {
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        let policy = self.options.reconnect
        while !Task.isCancelled {
            let servers = self.state.withLockedValue { $0.servers }
            for address in servers {
                if Task.isCancelled { return }
                do {
                    let ref = try await self.establish(to: address)
                    if self.commitConnection(ref, reconnect: true) {
                        self.logger.info("NATS connection re-established", metadata: ["nats.server": "\(address)"])
                        self.emit(.reconnected)
                    }
                    return
                } catch {
                    self.logger.debug(
                        "NATS reconnect attempt failed",
                        metadata: ["nats.server": "\(address)", "nats.error": "\(error)", "nats.attempt": "\(attempt)"])
                }
            }
            attempt += 1
            if let maxAttempts = policy.maxAttempts, attempt >= maxAttempts {
                self.logger.error("NATS reconnecting gave up", metadata: ["nats.attempts": "\(attempt)"])
                await self.close()
                return
            }
            let delay = policy.delay(forAttempt: attempt - 1, using: &generator)
            do {
                try await Task.sleep(for: delay)
            } catch {
                return
            }
        }
    }

    // MARK: Helpers

    /// Encodes `command` into the batch buffer and schedules a write; returns the bytes now waiting.
    @discardableResult
    private func enqueue(_ command: NATSClientCommand, messageSize: Int? = nil) throws -> Int {
        let appended = try self.state.withLockedValue { state in
            if let messageSize {
                try Self.checkSize(messageSize, limit: state.serverInfo?.maxPayload)
            }
            return try self.appendLocked(command, to: &state)
        }
        if let target = appended.drainTarget {
            self.scheduleDrain(target)
        }
        return appended.backlog
    }

    /// Appends `command` to the batch buffer (caller holds the lock). Returns the channel on which a drain must
    /// be scheduled (none when one is already scheduled or while not connected) and the bytes waiting.
    private func appendLocked(
        _ command: NATSClientCommand,
        to state: inout State
    ) throws -> (drainTarget: ChannelRef?, backlog: Int) {
        switch state.phase {
        case .closed:
            throw NATSError(.connectionClosed, "connection is closed")
        case .connecting, .reconnecting:
            let before = state.outbound.writerIndex
            NATSCommandEncoder.write(command, into: &state.outbound)
            if state.outbound.readableBytes > self.options.reconnectBufferSize {
                state.outbound.moveWriterIndex(to: before)
                throw NATSError(
                    .reconnectBufferFull,
                    "more than \(self.options.reconnectBufferSize) bytes buffered while reconnecting")
            }
            return (nil, 0)
        case .connected(let ref):
            NATSCommandEncoder.write(command, into: &state.outbound)
            let backlog = state.outbound.readableBytes
            if state.drainScheduled {
                return (nil, backlog)
            }
            state.drainScheduled = true
            return (ref, backlog)
        }
    }

    private func scheduleDrain(_ ref: ChannelRef) {
        ref.channel.eventLoop.execute {
            ref.handler.value.drainOutbound()
        }
    }

    private func currentChannel() -> ChannelRef? {
        self.state.withLockedValue {
            if case .connected(let ref) = $0.phase { return ref }
            return nil
        }
    }

    private func notConnectedError() -> NATSError {
        self.state.withLockedValue {
            if case .closed = $0.phase { return NATSError(.connectionClosed, "connection is closed") }
            return NATSError(.connectionLost, "not connected (reconnecting)")
        }
    }

    private func emit(_ event: NATSConnectionEvent) {
        let observers = self.state.withLockedValue { Array($0.observers.values) }
        for observer in observers {
            observer.yield(event)
        }
    }

    static func validateHeaders(_ headers: NATSHeaders?) throws {
        guard let headers else { return }
        for field in headers {
            guard NATSHeaders.isValidName(field.name), NATSHeaders.isValidValue(field.value) else {
                throw NATSError(.invalidHeader, "header '\(field.name.prefix(64))' cannot be sent")
            }
        }
    }

    /// Refuses a message larger than the server's `max_payload` (1 MiB, the server default, before any INFO).
    static func checkSize(_ size: Int, limit: Int?) throws {
        let limit = limit ?? 1024 * 1024
        guard size <= limit else {
            throw NATSError(.payloadTooLarge, "message of \(size) bytes exceeds the server's max_payload of \(limit)")
        }
    }

    static func validateSubject(_ subject: String) throws {
        guard !subject.isEmpty,
            subject.utf8.allSatisfy({ $0 > 32 && $0 != 127 })
        else {
            throw NATSError(.invalidSubject, "subject '\(subject.prefix(64))' is empty or contains whitespace")
        }
    }

    static func randomToken(length: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
