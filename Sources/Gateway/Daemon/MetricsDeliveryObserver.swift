/// Feeds the delivery worker's events into `GatewayMetrics`: published count and publish-to-ack
/// latency, publish failures, parked messages, breaker state, outbox depth and oldest pending age.
/// (The worker logs those events itself; this only counts.)
public struct MetricsDeliveryObserver: DeliveryObserver {
    private let metrics: GatewayMetrics

    public init(metrics: GatewayMetrics) {
        self.metrics = metrics
    }

    public func delivered(count: Int, ackLatencies: [Duration]) {
        self.metrics.messagesPublished.increment(by: count)
        for latency in ackLatencies {
            self.metrics.publishAckLatency.recordNanoseconds(GatewayStatusReporter.nanoseconds(latency))
        }
    }

    public func parked(seq: Int64, failure: DeliveryFailure) {
        self.metrics.messagesParked.increment()
    }

    public func attemptFailed(_ failure: DeliveryFailure) {
        self.metrics.publishFailures.increment()
    }

    public func breakerChanged(_ transition: BreakerTransition) {
        self.metrics.setBreakerState(Self.gaugeState(transition.to))
    }

    public func outboxDepthChanged(pending: Int, oldestPendingAgeSeconds: Int64?) {
        self.metrics.outboxDepth.record(pending)
        self.metrics.oldestPendingAge.record(oldestPendingAgeSeconds ?? 0)
    }

    static func gaugeState(_ state: BreakerState) -> GatewayMetrics.BreakerState {
        switch state {
        case .closed: .closed
        case .halfOpen: .halfOpen
        case .open: .open
        }
    }
}
