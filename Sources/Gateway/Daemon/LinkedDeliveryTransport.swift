import Logging
import NATSClient
import Synchronization

/// The delivery worker's transport over whatever connection the `NATSLink` holds right now.
///
/// The worker is built once, before NATS may be reachable; the link may replace its connection
/// (after the client gave up reconnecting). This transport creates a `NATSDeliveryTransport` for
/// each new connection and stops the previous one. While there is no connection, every call
/// fails with a transient `disconnected` failure, so the worker backs off and the events stay
/// journaled until NATS is back.
public final class LinkedDeliveryTransport: DeliveryTransport {
    private struct State {
        var generation: UInt64 = 0
        var current: NATSDeliveryTransport?
    }

    private let link: NATSLink
    private let mode: DeliveryMode
    private let ackTimeout: Duration
    private let logger: Logger
    private let state = Mutex(State())

    public init(link: NATSLink, mode: DeliveryMode, ackTimeout: Duration, logger: Logger) {
        self.link = link
        self.mode = mode
        self.ackTimeout = ackTimeout
        self.logger = logger
    }

    /// The transport over the link's current connection, created on first use after a change.
    private func transport() throws(DeliveryFailure) -> NATSDeliveryTransport {
        let generation = self.link.generation
        guard let connection = self.link.connection else {
            throw DeliveryFailure(code: .disconnected, message: "not connected to NATS")
        }
        let (transport, replaced) = self.state.withLock { state -> (NATSDeliveryTransport, NATSDeliveryTransport?) in
            if let current = state.current, state.generation == generation {
                return (current, nil)
            }
            let fresh = NATSDeliveryTransport(
                connection: connection, mode: self.mode, ackTimeout: self.ackTimeout, logger: self.logger)
            let previous = state.current
            state.current = fresh
            state.generation = generation
            return (fresh, previous)
        }
        replaced?.stop()
        return transport
    }

    public func prepare() async throws {
        try await self.transport().prepare()
    }

    public func send(_ message: OutgoingMessage) async throws -> DeliveryReceipt {
        try await self.transport().send(message)
    }

    public func sendBatch(_ messages: [OutgoingMessage]) async throws -> [DeliveryReceipt]? {
        try await self.transport().sendBatch(messages)
    }

    public func publishUnjournaled(_ message: OutgoingMessage) async throws {
        try await self.transport().publishUnjournaled(message)
    }

    public func flush() async throws {
        try await self.transport().flush()
    }

    public var isConnected: Bool {
        self.link.connection?.isConnected ?? false
    }

    public var connectionState: String {
        guard let connection = self.link.connection else { return "disconnected" }
        return connection.isConnected ? "connected" : "reconnecting"
    }

    public func classify(_ error: any Error) -> DeliveryFailure {
        if let failure = error as? DeliveryFailure { return failure }
        if let current = self.state.withLock({ $0.current }) {
            return current.classify(error)
        }
        return DeliveryFailure(code: .disconnected, message: "\(error)")
    }

    /// Stops listening for acknowledgements on the current connection (at shutdown).
    public func stop() {
        let current = self.state.withLock { state in
            defer { state.current = nil }
            return state.current
        }
        current?.stop()
    }
}
