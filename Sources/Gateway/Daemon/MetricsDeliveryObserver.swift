import Timekeeping

/// Feeds the delivery worker's events into `GatewayMetrics` (and the same into the dashboard's
/// state when one is given): published count and publish-to-ack latency, publish failures, parked
/// messages, breaker state, outbox depth and oldest pending age.
/// (The worker logs those events itself; this only counts.)
public struct MetricsDeliveryObserver: DeliveryObserver {
    private let metrics: GatewayMetrics
    private let dashboard: DashboardState?

    public init(metrics: GatewayMetrics, dashboard: DashboardState? = nil) {
        self.metrics = metrics
        self.dashboard = dashboard
    }

    public func delivered(count: Int, ackLatencies: [Duration]) {
        self.metrics.messagesPublished.increment(by: count)
        for latency in ackLatencies {
            self.metrics.publishAckLatency.recordNanoseconds(latency.wholeNanoseconds)
        }
        self.dashboard?.recordDelivered(count: count, ackLatencies: ackLatencies)
    }

    public func parked(seq: Int64, failure: DeliveryFailure) {
        self.metrics.messagesParked.increment()
        self.dashboard?.recordParked()
    }

    public func attemptFailed(_ failure: DeliveryFailure) {
        self.metrics.publishFailures.increment()
        self.dashboard?.recordAttemptFailed(failure.description)
    }

    public func breakerChanged(_ transition: BreakerTransition) {
        self.metrics.setBreakerState(Self.gaugeState(transition.to))
        self.dashboard?.recordBreaker(Self.dashboardState(transition.to))
    }

    public func outboxDepthChanged(pending: Int, oldestPendingAgeSeconds: Int64?) {
        self.metrics.outboxDepth.record(pending)
        self.metrics.oldestPendingAge.record(oldestPendingAgeSeconds ?? 0)
        self.dashboard?.recordOutbox(depth: pending, oldestPendingAgeSeconds: oldestPendingAgeSeconds)
    }

    static func dashboardState(_ state: BreakerState) -> String {
        switch state {
        case .closed: "closed"
        case .halfOpen: "half_open"
        case .open: "open"
        }
    }

    static func gaugeState(_ state: BreakerState) -> GatewayMetrics.BreakerState {
        switch state {
        case .closed: .closed
        case .halfOpen: .halfOpen
        case .open: .open
        }
    }
}
