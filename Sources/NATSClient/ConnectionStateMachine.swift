/// The protocol logic of one NATS connection (one TCP socket), as a value type.
///
/// Each mutating method takes an event and returns the ``Action`` the channel handler must perform; it does no
/// I/O itself, so the protocol rules are unit-tested without sockets (postgres-nio style).
struct ConnectionStateMachine: Sendable {
    enum State: Sendable, Equatable {
        case waitingForInfo
        case tlsHandshaking(NATSServerInfo)
        case waitingForConnectPong(NATSServerInfo)
        case connected(NATSServerInfo)
        case closed
    }

    /// Why a PING we sent is waiting for its PONG (the server answers PINGs in order).
    enum PingPurpose: Sendable, Equatable {
        case handshake
        case keepAlive
        case flush(UInt64)
    }

    enum Action: Sendable, Equatable {
        case none
        /// Add TLS to the pipeline and wait for the handshake.
        case startTLS
        /// Send `CONNECT` followed by `PING` (whose PONG confirms the connection).
        case sendConnectAndPing(NATSServerInfo)
        case sendPing
        case sendPong
        /// The handshake completed: the connection is usable.
        case connectionReady(NATSServerInfo)
        /// The server sent a new INFO while connected (cluster URLs, lame-duck mode).
        case updateServerInfo(NATSServerInfo)
        /// The PONG for a `flush()` arrived.
        case completeFlush(UInt64)
        /// A flush cannot be sent because the connection is not ready.
        case failFlush(UInt64, NATSError)
        /// A non-fatal server error (the server keeps the connection open).
        case reportError(NATSError)
        /// Close the socket; the error says why.
        case closeConnection(NATSError)
    }

    private(set) var state: State = .waitingForInfo
    private(set) var pendingPings: [PingPurpose] = []
    let clientRequiresTLS: Bool
    let maxPingsOut: Int

    init(clientRequiresTLS: Bool, maxPingsOut: Int) {
        self.clientRequiresTLS = clientRequiresTLS
        self.maxPingsOut = maxPingsOut
    }

    mutating func infoReceived(_ info: NATSServerInfo) -> Action {
        switch self.state {
        case .waitingForInfo:
            let serverRequiresTLS = info.tlsRequired ?? false
            if self.clientRequiresTLS || serverRequiresTLS {
                guard serverRequiresTLS || (info.tlsAvailable ?? false) else {
                    self.state = .closed
                    return .closeConnection(NATSError(.tlsFailure, "TLS is required but the server does not offer it"))
                }
                self.state = .tlsHandshaking(info)
                return .startTLS
            }
            self.state = .waitingForConnectPong(info)
            self.pendingPings.append(.handshake)
            return .sendConnectAndPing(info)
        case .connected:
            self.state = .connected(info)
            return .updateServerInfo(info)
        case .waitingForConnectPong, .tlsHandshaking:
            return .none
        case .closed:
            return .none
        }
    }

    mutating func tlsEstablished() -> Action {
        guard case .tlsHandshaking(let info) = self.state else {
            return .none
        }
        self.state = .waitingForConnectPong(info)
        self.pendingPings.append(.handshake)
        return .sendConnectAndPing(info)
    }

    mutating func pongReceived() -> Action {
        guard !self.pendingPings.isEmpty else {
            return .none
        }
        switch self.pendingPings.removeFirst() {
        case .handshake:
            guard case .waitingForConnectPong(let info) = self.state else { return .none }
            self.state = .connected(info)
            return .connectionReady(info)
        case .keepAlive:
            return .none
        case .flush(let id):
            return .completeFlush(id)
        }
    }

    mutating func pingReceived() -> Action {
        switch self.state {
        case .closed:
            return .none
        default:
            return .sendPong
        }
    }

    mutating func keepAliveTimerFired() -> Action {
        guard case .connected = self.state else {
            return .none
        }
        let unanswered = self.pendingPings.filter { $0 == .keepAlive }.count
        if unanswered >= self.maxPingsOut {
            self.state = .closed
            return .closeConnection(
                NATSError(.staleConnection, "\(unanswered) pings unanswered, connection declared dead"))
        }
        self.pendingPings.append(.keepAlive)
        return .sendPing
    }

    mutating func flushRequested(id: UInt64) -> Action {
        guard case .connected = self.state else {
            return .failFlush(id, NATSError(.connectionLost, "connection is not established"))
        }
        self.pendingPings.append(.flush(id))
        return .sendPing
    }

    mutating func errorReceived(_ text: String) -> Action {
        let error = NATSError.fromServer(text)
        if case .connected = self.state, error.code == .permissionsViolation {
            return .reportError(error)
        }
        if self.state == .closed {
            return .none
        }
        self.state = .closed
        return .closeConnection(error)
    }

    /// The socket closed; returns the flushes that can never complete.
    mutating func channelClosed() -> [UInt64] {
        self.state = .closed
        let flushes = self.pendingPings.compactMap { purpose -> UInt64? in
            if case .flush(let id) = purpose { return id }
            return nil
        }
        self.pendingPings.removeAll()
        return flushes
    }
}
