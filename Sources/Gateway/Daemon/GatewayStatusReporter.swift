import Foundation
import Logging
import Outbox
import ServiceLifecycle
import Timekeeping
import WazuhSource

/// Turns the source's and the outbox's state into readiness and metrics, as a `Service` that
/// samples both every `interval`.
///
/// Source: each new successful read of `global.db` marks the source fresh for `/readyz` and sets the
/// last-success timestamp and read-duration metrics; each new failed read is counted and its
/// message (a `WazuhSourceError` description: path and reason, never data) shown in `/readyz`.
/// Outbox: depth and the age of the oldest pending message go to their gauges (detected events are
/// counted by the detection service as it journals them). A failure to read the outbox is logged
/// once per streak, never fatal.
public final class GatewayStatusReporter: Service, Sendable {
    /// One manager's source as the reporter samples it.
    public struct ReportedSource: Sendable {
        /// The manager's node with `managers:`; nil for the single `wazuh:` manager.
        public var manager: String?
        public var monitor: any AgentStatusSourcing
        public var metrics: SourceMetrics

        public init(manager: String?, monitor: any AgentStatusSourcing, metrics: SourceMetrics) {
            self.manager = manager
            self.monitor = monitor
            self.metrics = metrics
        }
    }

    private let sources: [ReportedSource]
    private let outbox: OutboxStore
    private let readiness: GatewayReadiness
    private let metrics: GatewayMetrics
    private let dashboard: DashboardState?
    private let interval: Duration
    private let logger: Logger

    /// - Parameter dashboard: shows each source's health, under its manager.
    public init(
        sources: [ReportedSource], outbox: OutboxStore, readiness: GatewayReadiness, metrics: GatewayMetrics,
        dashboard: DashboardState? = nil, interval: Duration, logger: Logger
    ) {
        self.dashboard = dashboard
        self.sources = sources
        self.outbox = outbox
        self.readiness = readiness
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    /// What the reporter saw at the previous sample, to report only what is new.
    struct Sample {
        var successfulReads = 0
        var failedReads = 0
        var activeSource: AgentStatusSource?
        var sourceSwitches = 0
        var socketQueries = 0
        var changesBeforeFile = 0
        var socketBytes = 0
        var outboxFailing = false
    }

    public func run() async throws {
        var sample = Sample()
        var sourceSamples = self.sources.map { _ in Sample() }
        while !Task.isShuttingDownGracefully {
            for index in self.sources.indices {
                self.reportSource(self.sources[index], &sourceSamples[index])
            }
            self.reportOutbox(&sample)
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: self.interval)
                }
            } catch {
                break
            }
        }
        self.reportOutbox(&sample)
    }

    func reportSource(_ source: ReportedSource, _ sample: inout Sample) {
        let health = source.monitor.health
        let metrics = source.metrics
        if health.successfulReads > sample.successfulReads {
            self.readiness.recordSourceReadSuccess(manager: source.manager)
            if let last = health.lastSuccessfulRead {
                metrics.lastSuccessfulRead.record(last.timeIntervalSince1970)
            }
            if let duration = health.lastTransactionDuration {
                metrics.readDuration.recordNanoseconds(duration.wholeNanoseconds)
            }
        }
        if health.failedReads > sample.failedReads {
            metrics.readErrors.increment(by: health.failedReads - sample.failedReads)
            if let error = health.lastError, health.consecutiveFailures > 0 {
                self.readiness.recordSourceReadFailure(error.description, manager: source.manager)
            }
        }
        if health.activeSource != sample.activeSource {
            metrics.setActiveSource(health.activeSource?.rawValue)
            self.readiness.recordSourceKind(health.activeSource?.rawValue, manager: source.manager)
        }
        if health.sourceSwitches > sample.sourceSwitches {
            metrics.switches.increment(by: health.sourceSwitches - sample.sourceSwitches)
        }
        if health.socketQueries > sample.socketQueries {
            metrics.wazuhDBQueries.increment(by: health.socketQueries - sample.socketQueries)
        }
        if health.changesSeenBeforeFile > sample.changesBeforeFile {
            metrics.changesBeforeFile.increment(by: health.changesSeenBeforeFile - sample.changesBeforeFile)
        }
        if health.socketBytesReceived > sample.socketBytes {
            metrics.wazuhDBReplyBytes.increment(by: health.socketBytesReceived - sample.socketBytes)
        }
        if health.successfulReads != sample.successfulReads || health.failedReads != sample.failedReads {
            self.dashboard?.recordSource(health, manager: source.manager)
        }
        sample.successfulReads = health.successfulReads
        sample.failedReads = health.failedReads
        sample.activeSource = health.activeSource
        sample.sourceSwitches = health.sourceSwitches
        sample.socketQueries = health.socketQueries
        sample.socketBytes = health.socketBytesReceived
        sample.changesBeforeFile = health.changesSeenBeforeFile
    }

    func reportOutbox(_ sample: inout Sample) {
        do {
            let pending = try self.outbox.pendingCount()
            let oldest = try self.outbox.oldestPendingCreatedAt()
            self.metrics.outboxDepth.record(pending)
            let nowMilliseconds = SystemClock.epochMilliseconds()
            let age = oldest.map { max(0, nowMilliseconds - $0) } ?? 0
            self.metrics.oldestPendingAge.record(Double(age) / 1000)
            self.dashboard?.recordOutbox(depth: pending, oldestPendingAgeSeconds: oldest == nil ? nil : age / 1000)
            if sample.outboxFailing {
                self.logger.info("outbox readable again")
                sample.outboxFailing = false
            }
        } catch {
            if !sample.outboxFailing {
                self.logger.error("cannot read the outbox depth", metadata: ["error": "\(error)"])
                sample.outboxFailing = true
            }
        }
    }
}
