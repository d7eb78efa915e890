import Metrics
import WireContract

import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// Every metric the gateway exports, all named `wazuh_nats_gateway_*`, created from the factory
/// handed in: tests pass a factory over their own `PrometheusCollectorRegistry`; `run` bootstraps
/// the global `MetricsSystem` once and passes the same factory here.
///
/// Build the factory with `GatewayMetrics.makePrometheusFactory(registry:)` so the latency
/// histograms get second-scale buckets suited to them.
public struct GatewayMetrics: Sendable {
    /// Circuit breaker states as exported by `breakerState`.
    public enum BreakerState: Int, Sendable {
        case closed = 0
        case halfOpen = 1
        case open = 2
    }

    public static let prefix = "wazuh_nats_gateway_"
    static let publishAckLatencyLabel = prefix + "publish_ack_latency_seconds"
    static let sourceReadDurationLabel = prefix + "source_read_duration_seconds"

    /// The single manager's source metrics, under the names they had before `managers:`.
    public var sourceReadDuration: Timer { self.source.readDuration }
    public var sourceReadErrors: Counter { self.source.readErrors }
    public var lastSuccessfulSourceRead: Gauge { self.source.lastSuccessfulRead }
    public func setActiveSource(_ source: String?) { self.source.setActiveSource(source) }
    /// Event types counted by `eventDetected(type:)`; any other type counts as `other`.
    public static let eventTypes = ["status_change", "registered", "removed", "other"]

    private let eventsDetected: [String: Counter]
    /// Messages acknowledged by NATS (PubAck, reply, or written for `publish` mode).
    public let messagesPublished: Counter
    /// Publish attempts that failed (timeout, error reply, disconnect).
    public let publishFailures: Counter
    /// Messages set aside after being refused permanently.
    public let messagesParked: Counter
    /// Messages in the outbox not yet delivered.
    public let outboxDepth: Gauge
    /// Age in seconds of the oldest undelivered message (0 when none).
    public let oldestPendingAge: Gauge
    /// Time from publish to acknowledgement.
    public let publishAckLatency: Timer
    /// 0 closed, 1 half-open, 2 open; set through `setBreakerState(_:)`.
    public let breakerState: Gauge
    public let natsReconnects: Counter
    /// 1 while connected to NATS, 0 otherwise; set through `setNATSConnected(_:)`.
    public let natsConnected: Gauge
    /// Agent status sources (`wazuh.source`) exported by `source_active{source=…}`.
    public static let sources = ["file", "wazuh-db", "api"]
    /// The per-source metrics of each watched manager, keyed by `manager_node` (the single
    /// `wazuh:` manager's are unlabelled; with `managers:` each carries `manager="{node}"`).
    public let managerSources: [String: SourceMetrics]
    /// The first manager's source metrics (the only ones of a single-manager gateway).
    public let source: SourceMetrics
    /// Transitions whose secondary messages the per-agent rate limit condensed into a flapping summary.
    public let transitionsCondensed: Counter
    private let anomaliesDetected: [String: Counter]
    /// Detection cycles whose journaling in the outbox failed (each retry counts).
    public let outboxWriteErrors: Counter
    /// 1 while detection is paused because its changes cannot be journaled (e.g. the outbox's disk is
    /// full), 0 otherwise.
    public let detectionPaused: Gauge

    /// - Parameters:
    ///   - managers: the watched managers' `manager_node`s; their source metrics are labelled
    ///     `manager="{node}"` when `labelSources` (a `managers:` list) or when there are several.
    public init(factory: any MetricsFactory, managers: [String] = [], labelSources: Bool = false) {
        let p = Self.prefix
        var events: [String: Counter] = [:]
        for type in Self.eventTypes {
            events[type] = Counter(label: p + "events_detected_total", dimensions: [("type", type)], factory: factory)
        }
        self.eventsDetected = events
        self.messagesPublished = Counter(label: p + "messages_published_total", factory: factory)
        self.publishFailures = Counter(label: p + "publish_failures_total", factory: factory)
        self.messagesParked = Counter(label: p + "messages_parked_total", factory: factory)
        self.outboxDepth = Gauge(label: p + "outbox_depth", factory: factory)
        self.oldestPendingAge = Gauge(label: p + "oldest_pending_age_seconds", factory: factory)
        self.publishAckLatency = Timer(label: Self.publishAckLatencyLabel, factory: factory)
        self.breakerState = Gauge(label: p + "breaker_state", factory: factory)
        self.natsReconnects = Counter(label: p + "nats_reconnects_total", factory: factory)
        self.natsConnected = Gauge(label: p + "nats_connected", factory: factory)
        let labelled = managers.count > 1 || (managers.count == 1 && labelSources)
        var sources: [String: SourceMetrics] = [:]
        for manager in managers.isEmpty ? [""] : managers {
            sources[manager] = SourceMetrics(factory: factory, manager: labelled ? manager : nil)
        }
        self.managerSources = sources
        self.source = sources[managers.first ?? ""]!
        self.transitionsCondensed = Counter(label: p + "transitions_condensed_total", factory: factory)
        var anomalies: [String: Counter] = [:]
        for type in AnomalyEvent.Kind.allCases.map(\.rawValue) {
            anomalies[type] = Counter(
                label: p + "anomalies_detected_total", dimensions: [("type", type)], factory: factory)
        }
        self.anomaliesDetected = anomalies
        self.outboxWriteErrors = Counter(label: p + "outbox_write_errors_total", factory: factory)
        self.detectionPaused = Gauge(label: p + "detection_paused", factory: factory)
        // Gauges start at 0 so every series is present in /metrics from the first scrape.
        for gauge in [
            self.outboxDepth, self.oldestPendingAge, self.breakerState, self.natsConnected,
            self.detectionPaused,
        ] {
            gauge.record(0)
        }
    }

    /// Counts one detected event of `type` (`status_change`, `registered`, `removed`).
    public func eventDetected(type: String, count: Int = 1) {
        (self.eventsDetected[type] ?? self.eventsDetected["other"])?.increment(by: count)
    }

    /// Counts one anomaly finding of `type` (an ``AnomalyEvent/Kind`` raw value).
    public func anomalyDetected(type: String) {
        self.anomaliesDetected[type]?.increment()
    }

    public func setBreakerState(_ state: BreakerState) {
        self.breakerState.record(state.rawValue)
    }

    public func setNATSConnected(_ connected: Bool) {
        self.natsConnected.record(connected ? 1 : 0)
    }

    /// A Prometheus factory over `registry` whose latency histograms use buckets from 1 ms to 30 s.
    public static func makePrometheusFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        let ackBuckets: [Duration] = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        factory.durationHistogramBuckets[Self.publishAckLatencyLabel] = ackBuckets
        factory.durationHistogramBuckets[Self.sourceReadDurationLabel] = ackBuckets
        return factory
    }
}
