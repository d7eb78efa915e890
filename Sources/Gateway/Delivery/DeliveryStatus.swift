import Synchronization
import WireContract

/// A point-in-time view of the delivery worker for metrics, readiness and heartbeats.
public struct DeliveryStatus: Sendable, Hashable {
    public var breakerState: BreakerState = .closed
    /// Pending messages in the outbox at the last count.
    public var outboxDepth: Int = 0
    /// Age of the oldest pending message at the last count, in seconds.
    public var oldestPendingAgeSeconds: Int64?
    public var deliveredTotal: Int = 0
    public var parkedTotal: Int = 0
    public var failedAttemptsTotal: Int = 0
    /// The last failure, classified; `nil` after a success.
    public var lastError: DeliveryFailure?
    /// The NATS connection state as the transport describes it.
    public var connectionState: String = "unknown"
    /// The audit chain head after the last delivered batch, when the audit log is on.
    public var auditHead: AuditHead?

    public init() {}
}

/// Receives delivery events as they happen (the metrics engineer's `GatewayMetrics` conforms through
/// an adapter). Calls come from the worker's task; implementations must be cheap and thread-safe.
public protocol DeliveryObserver: Sendable {
    func delivered(count: Int, ackLatencies: [Duration])
    func parked(seq: Int64, failure: DeliveryFailure)
    func attemptFailed(_ failure: DeliveryFailure)
    func breakerChanged(_ transition: BreakerTransition)
    func outboxDepthChanged(pending: Int, oldestPendingAgeSeconds: Int64?)
}

/// Thread-safe holder of the latest ``DeliveryStatus``; read it from any task.
public final class DeliveryStatusBoard: Sendable {
    private let status = Mutex(DeliveryStatus())

    public init() {}

    /// The latest status.
    public var current: DeliveryStatus { status.withLock { $0 } }

    func update(_ body: (inout DeliveryStatus) -> Void) {
        status.withLock { body(&$0) }
    }
}
