import Prometheus
import Testing

@testable import Gateway

struct ObservabilityMetricsTests {
    @Test func everyMetricIsExportedWithThePrefix() {
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.makePrometheusFactory(registry: registry))
        metrics.messagesPublished.increment()
        metrics.publishFailures.increment()
        metrics.messagesParked.increment()
        metrics.natsReconnects.increment()
        metrics.sourceReadErrors.increment()
        metrics.sourceReadDuration.recordMilliseconds(2)
        metrics.publishAckLatency.recordMilliseconds(2)
        let text = registry.emitToString()
        for name in [
            "events_detected_total", "messages_published_total", "publish_failures_total", "messages_parked_total",
            "outbox_depth", "oldest_pending_age_seconds", "publish_ack_latency_seconds", "breaker_state",
            "nats_reconnects_total", "nats_connected", "source_read_duration_seconds", "source_read_errors_total",
            "last_successful_source_read_timestamp_seconds", "outbox_write_errors_total", "detection_paused",
        ] {
            #expect(text.contains("# TYPE wazuh_nats_gateway_\(name) "), "missing \(name)")
        }
    }

    @Test func eventsAreCountedByType() {
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.makePrometheusFactory(registry: registry))
        metrics.eventDetected(type: "registered")
        metrics.eventDetected(type: "registered")
        metrics.eventDetected(type: "removed")
        metrics.eventDetected(type: "something_new")
        let text = registry.emitToString()
        #expect(text.contains("wazuh_nats_gateway_events_detected_total{type=\"registered\"} 2\n"))
        #expect(text.contains("wazuh_nats_gateway_events_detected_total{type=\"removed\"} 1\n"))
        #expect(text.contains("wazuh_nats_gateway_events_detected_total{type=\"other\"} 1\n"))
        #expect(text.contains("wazuh_nats_gateway_events_detected_total{type=\"status_change\"} 0\n"))
    }

    @Test func gaugesReflectTheLatestValue() {
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.makePrometheusFactory(registry: registry))
        metrics.setNATSConnected(true)
        metrics.setBreakerState(.halfOpen)
        metrics.lastSuccessfulSourceRead.record(1_796_019_304)
        var text = registry.emitToString()
        #expect(text.contains("wazuh_nats_gateway_nats_connected 1"))
        #expect(text.contains("wazuh_nats_gateway_breaker_state 1"))
        #expect(text.contains("wazuh_nats_gateway_last_successful_source_read_timestamp_seconds 1796019304"))
        metrics.setNATSConnected(false)
        text = registry.emitToString()
        #expect(text.contains("wazuh_nats_gateway_nats_connected 0"))
    }

    @Test func latencyHistogramUsesSecondBuckets() {
        let registry = PrometheusCollectorRegistry()
        let metrics = GatewayMetrics(factory: GatewayMetrics.makePrometheusFactory(registry: registry))
        metrics.publishAckLatency.recordMilliseconds(40)
        let text = registry.emitToString()
        #expect(text.contains("wazuh_nats_gateway_publish_ack_latency_seconds_bucket{le=\"0.025\"} 0\n"))
        #expect(text.contains("wazuh_nats_gateway_publish_ack_latency_seconds_bucket{le=\"0.05\"} 1\n"))
        #expect(text.contains("wazuh_nats_gateway_publish_ack_latency_seconds_count 1\n"))
    }

    @Test func twoGatewayMetricsOnOneRegistryShareTheirSeries() {
        let registry = PrometheusCollectorRegistry()
        let factory = GatewayMetrics.makePrometheusFactory(registry: registry)
        GatewayMetrics(factory: factory).messagesPublished.increment()
        GatewayMetrics(factory: factory).messagesPublished.increment()
        #expect(registry.emitToString().contains("wazuh_nats_gateway_messages_published_total 2\n"))
    }
}

struct ObservabilityReadinessTests {
    @Test func readyOnlyWithNATSAndARecentRead() async {
        let clock = ManualClockValue()
        let readiness = GatewayReadiness(maximumSourceAge: .seconds(15), now: { clock.value })
        #expect(await readiness.readiness().problems == ["nats: disconnected", "source: no successful read yet"])
        readiness.recordSourceReadFailure("unable to open database")
        #expect(
            await readiness.readiness().problems == [
                "nats: disconnected", "source: no successful read yet: unable to open database",
            ])
        readiness.recordSourceReadSuccess()
        readiness.setNATSConnected(true)
        #expect(await readiness.readiness().isReady)
        clock.value = .seconds(15)
        #expect(await readiness.readiness().isReady)
        clock.value = .seconds(16)
        #expect(await readiness.readiness().problems == ["source: last successful read 16s ago"])
        readiness.recordSourceReadSuccess()
        #expect(await readiness.readiness().isReady)
        readiness.setNATSConnected(false)
        #expect(await readiness.readiness().problems == ["nats: disconnected"])
    }
}

struct ObservabilityReadinessDefaultsTests {
    @Test func sourceIsStaleAfterThreeMissedPollsPlusSlack() async throws {
        #expect(GatewayReadiness.maximumSourceAge(pollInterval: .seconds(5)) == .seconds(25))
        let configuration = try GatewayConfiguration.load(yaml: minimalYAML, environment: [:])
        let readiness = GatewayReadiness(configuration: configuration)
        readiness.setNATSConnected(true)
        readiness.recordSourceReadSuccess()
        #expect(await readiness.readiness().isReady)
    }
}
