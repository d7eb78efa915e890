import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// What the channel handler calls, and how connections are established and re-established.
extension NATSConnection {
    // MARK: Internals used by the channel handler

    /// Takes the batched outgoing bytes for the channel of `generation`.
    func takeOutbound(generation: UInt64) -> ByteBuffer? {
        self.state.withLockedValue { state in
            guard case .connected(let ref) = state.phase, ref.generation == generation else { return nil }
            state.drainScheduled = false
            guard state.outbound.readableBytes > 0 else { return nil }
            let buffer = state.outbound
            // The next batch is likely about as large: allocate it once instead of growing it step by step.
            state.outbound = ByteBuffer()
            state.outbound.reserveCapacity(min(max(buffer.readableBytes, 4096), 1 << 20))
            return buffer
        }
    }

    func deliver(sid: UInt64, message: NATSMessage) {
        enum Target {
            case request(PendingRequest)
            case ack(AckSlot)
            case subscription(AsyncStream<NATSMessage>.Continuation)
        }
        let target: Target? = self.state.withLockedValue { state in
            if sid == state.inboxSID {
                let subject = message.subject.utf8
                guard let dot = subject.lastIndex(of: UInt8(ascii: ".")) else { return nil }
                let tokenStart = subject.index(after: dot)
                if let ackToken = AckTable.token(in: subject[tokenStart...]) {
                    return state.acks.remove(token: ackToken).map(Target.ack)
                }
                let token = String(message.subject[tokenStart...])
                return state.pendingRequests.removeValue(forKey: token).map(Target.request)
            }
            return state.subscriptions[sid].map { Target.subscription($0.continuation) }
        }
        switch target {
        case .request(let pending):
            pending.succeed(message)
        case .ack(let slot):
            slot.complete(reply: message)
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
        let (wasCurrent, pending, acks, startReconnect) = self.state.withLockedValue {
            state -> (Bool, [PendingRequest], [AckSlot], Bool) in
            state.lastClosedGeneration = max(state.lastClosedGeneration, generation)
            guard case .connected(let ref) = state.phase, ref.generation == generation else {
                return (false, [], [], false)
            }
            let pending = Array(state.pendingRequests.values)
            state.pendingRequests.removeAll()
            let acks = state.acks.removeAll()
            state.drainScheduled = false
            if self.options.reconnect.enabled {
                state.phase = .reconnecting
                return (true, pending, acks, true)
            }
            state.phase = .closed
            return (true, pending, acks, false)
        }
        guard wasCurrent else { return }
        self.logger.warning("NATS connection lost", metadata: ["nats.error": "\(reason)"])
        let lost = NATSError(.connectionLost, "connection lost before the reply arrived", underlying: reason)
        for request in pending {
            request.fail(lost)
        }
        for slot in acks {
            slot.complete(.failure(lost))
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

    func establish(to address: NATSServerAddress) async throws -> ChannelRef {
        let generation = self.state.withLockedValue { state in
            state.generation += 1
            return state.generation
        }
        let promise = self.eventLoop.makePromise(of: HandshakeResult.self)
        let maxInbound = self.options.maxInboundMessageSize
        let logger = self.logger
        let bootstrap = ClientBootstrap(group: self.eventLoop)
            .connectTimeout(self.options.connectTimeout.timeAmount)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)  // IPPROTO_TCP; at SOL_SOCKET, 1 is SO_DEBUG (root only)
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
    func commitConnection(_ ref: ChannelRef, reconnect: Bool) -> Bool {
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

    func reconnectLoop() async {
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
}
