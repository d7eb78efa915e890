/// A change of the connection's state, delivered through ``NATSConnection/stateChanges``.
public enum NATSConnectionEvent: Sendable, Equatable {
    /// The first connection was established.
    case connected
    /// The connection was lost; the client reconnects unless reconnecting is disabled.
    case disconnected(NATSError)
    /// A connection was re-established and subscriptions were replayed.
    case reconnected
    /// The connection is closed for good (by the application or after reconnecting gave up).
    case closed
}
