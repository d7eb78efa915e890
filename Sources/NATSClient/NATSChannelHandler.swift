import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// What a handshake yields: the server's INFO and the handler, bound to its event loop.
struct HandshakeResult: Sendable {
    var info: NATSServerInfo
    var handler: NIOLoopBound<NATSChannelHandler>
}

/// Performs the actions of ``ConnectionStateMachine`` on one channel; holds no protocol rules itself.
///
/// Lives on its channel's event loop. Outgoing application commands are batched by ``NATSConnection`` and
/// pulled from it by ``drainOutbound()``; the handler itself only writes handshake and PING/PONG commands.
final class NATSChannelHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NATSServerOp
    typealias OutboundOut = ByteBuffer

    private var stateMachine: ConnectionStateMachine
    private let connection: NATSConnection
    private let generation: UInt64
    private let address: NATSServerAddress
    private let readyPromise: EventLoopPromise<HandshakeResult>
    private var readyCompleted = false
    private var context: ChannelHandlerContext?
    private var keepAlive: RepeatedTask?
    private var flushPromises: [UInt64: EventLoopPromise<Void>] = [:]
    private var nextFlushID: UInt64 = 0
    private var closeReason: NATSError?
    private let logger: Logger

    init(
        connection: NATSConnection,
        generation: UInt64,
        address: NATSServerAddress,
        readyPromise: EventLoopPromise<HandshakeResult>,
        logger: Logger
    ) {
        self.connection = connection
        self.generation = generation
        self.address = address
        self.readyPromise = readyPromise
        self.logger = logger
        self.stateMachine = ConnectionStateMachine(
            clientRequiresTLS: address.tls || connection.options.tls != nil,
            maxPingsOut: connection.options.maxPingsOut)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .info(let json):
            do {
                let info = try JSONDecoder().decode(NATSServerInfo.self, from: Data(json.utf8))
                self.perform(self.stateMachine.infoReceived(info), context: context)
            } catch {
                self.perform(
                    .closeConnection(NATSError(.invalidResponse, "server INFO is not valid JSON", underlying: error)),
                    context: context)
            }
        case .message(let sid, let message):
            self.connection.deliver(sid: sid, message: message)
        case .ping:
            self.perform(self.stateMachine.pingReceived(), context: context)
        case .pong:
            self.perform(self.stateMachine.pongReceived(), context: context)
        case .ok:
            break
        case .err(let text):
            self.perform(self.stateMachine.errorReceived(text), context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            self.perform(self.stateMachine.tlsEstablished(), context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason: NATSError
        if let error = error as? NATSError {
            reason = error
        } else if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            reason = NATSError(.tlsFailure, "TLS handshake with \(self.address) failed", underlying: error)
        } else {
            reason = NATSError(.connectionLost, "connection to \(self.address) failed", underlying: error)
        }
        self.perform(.closeConnection(reason), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.keepAlive?.cancel()
        self.keepAlive = nil
        let reason = self.closeReason ?? NATSError(.connectionLost, "connection to \(self.address) closed")
        for id in self.stateMachine.channelClosed() {
            self.flushPromises.removeValue(forKey: id)?.fail(reason)
        }
        if self.readyCompleted {
            self.connection.channelClosed(generation: self.generation, reason: reason)
        } else {
            self.readyCompleted = true
            self.readyPromise.fail(reason)
        }
        context.fireChannelInactive()
    }

    /// Writes whatever the connection has batched.
    func drainOutbound() {
        guard let context = self.context, let buffer = self.connection.takeOutbound(generation: self.generation)
        else { return }
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
    }

    /// Sends a PING after everything batched so far; `promise` completes with its PONG.
    func flush(promise: EventLoopPromise<Void>) {
        self.drainOutbound()
        guard let context = self.context else {
            promise.fail(NATSError(.connectionLost, "connection is not established"))
            return
        }
        self.nextFlushID += 1
        self.flushPromises[self.nextFlushID] = promise
        self.perform(self.stateMachine.flushRequested(id: self.nextFlushID), context: context)
    }

    /// Closes the socket on request of the application.
    func close(reason: NATSError) {
        guard let context = self.context else { return }
        self.perform(.closeConnection(reason), context: context)
    }

    private func perform(_ action: ConnectionStateMachine.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .startTLS:
            do {
                let tlsContext = try self.connection.makeTLSContext()
                let name = self.connection.options.tls?.serverName ?? self.address.host
                let isAddress = (try? SocketAddress(ipAddress: name, port: 0)) != nil
                let tlsHandler = try NIOSSLClientHandler(context: tlsContext, serverHostname: isAddress ? nil : name)
                try context.pipeline.syncOperations.addHandler(tlsHandler, position: .first)
            } catch {
                self.perform(
                    .closeConnection(
                        NATSError(.tlsFailure, "cannot set up TLS for \(self.address)", underlying: error)),
                    context: context)
            }
        case .sendConnectAndPing(let info):
            do {
                let json = try self.connection.connectPayload(info: info, address: self.address)
                var buffer = context.channel.allocator.buffer(capacity: json.utf8.count + 16)
                NATSCommandEncoder.write(.connect(json), into: &buffer)
                NATSCommandEncoder.write(.ping, into: &buffer)
                context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
            } catch let error as NATSError {
                self.perform(.closeConnection(error), context: context)
            } catch {
                self.perform(
                    .closeConnection(NATSError(.authenticationSetup, "cannot prepare credentials", underlying: error)),
                    context: context)
            }
        case .sendPing:
            self.write(.ping, context: context)
        case .sendPong:
            self.write(.pong, context: context)
        case .connectionReady(let info):
            let interval = self.connection.options.pingInterval.timeAmount
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.keepAlive = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
                loopBound.value.keepAliveTimerFired()
            }
            self.readyCompleted = true
            self.readyPromise.succeed(HandshakeResult(info: info, handler: loopBound))
        case .updateServerInfo(let info):
            self.connection.serverInfoUpdated(info)
        case .completeFlush(let id):
            self.flushPromises.removeValue(forKey: id)?.succeed()
        case .failFlush(let id, let error):
            self.flushPromises.removeValue(forKey: id)?.fail(error)
        case .reportError(let error):
            self.logger.warning(
                "NATS server reported an error", metadata: ["nats.error": "\(error)", "nats.server": "\(self.address)"])
        case .closeConnection(let error):
            if self.closeReason == nil {
                self.closeReason = error
            }
            if !self.readyCompleted {
                self.readyCompleted = true
                self.readyPromise.fail(error)
            }
            context.close(promise: nil)
        }
    }

    private func keepAliveTimerFired() {
        guard let context = self.context else { return }
        self.perform(self.stateMachine.keepAliveTimerFired(), context: context)
    }

    private func write(_ command: NATSClientCommand, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 8)
        NATSCommandEncoder.write(command, into: &buffer)
        context.writeAndFlush(Self.wrapOutboundOut(buffer), promise: nil)
    }
}
