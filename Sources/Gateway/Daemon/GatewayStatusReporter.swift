import Foundation
import Logging
import Outbox
import ServiceLifecycle
import WazuhSource

/// Turns the source's and the outbox's state into readiness and metrics, as a `Service` that
/// samples both every `interval`.
///
/// Source: each new successful read of `global.db` marks the source fresh for `/readyz` and sets the
/// last-success timestamp and read-duration metrics; each new failed read is counted and its
/// message (a `WazuhSourceError` description: path and reason, never data) shown in `/readyz`.
/// Outbox: depth and the age of the oldest pending message go to their gauges, and every event row
/// journaled since the daemon started is counted once in `events_detected_total{type}` (the
/// detection service has no observer hook; the journal is the record of what was detected). A
/// failure to read the outbox is logged once per streak, never fatal.
public final class GatewayStatusReporter: Service, Sendable {
    private let monitor: AgentStatusMonitor
    private let outbox: OutboxStore
    private let readiness: GatewayReadiness
    private let metrics: GatewayMetrics
    private let interval: Duration
    private let journaledBeforeStart: Int64
    private let logger: Logger

    /// - Parameters:
    ///   - journaledBeforeStart: the outbox's last `seq` when the daemon started; rows up to it were
    ///     detected (and counted) by an earlier process.
    public init(
        monitor: AgentStatusMonitor, outbox: OutboxStore, readiness: GatewayReadiness, metrics: GatewayMetrics,
        interval: Duration, journaledBeforeStart: Int64, logger: Logger
    ) {
        self.journaledBeforeStart = journaledBeforeStart
        self.monitor = monitor
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
        var outboxFailing = false
        /// The last journal row already counted as detected.
        var countedThroughSeq: Int64
    }

    public func run() async throws {
        var sample = Sample(countedThroughSeq: self.journaledBeforeStart)
        while !Task.isShuttingDownGracefully {
            self.reportSource(&sample)
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

    func reportSource(_ sample: inout Sample) {
        let health = self.monitor.health
        if health.successfulReads > sample.successfulReads {
            self.readiness.recordSourceReadSuccess()
            if let last = health.lastSuccessfulRead {
                self.metrics.lastSuccessfulSourceRead.record(last.timeIntervalSince1970)
            }
            if let duration = health.lastTransactionDuration {
                self.metrics.sourceReadDuration.recordNanoseconds(Self.nanoseconds(duration))
            }
        }
        if health.failedReads > sample.failedReads {
            self.metrics.sourceReadErrors.increment(by: health.failedReads - sample.failedReads)
            if let error = health.lastError, health.consecutiveFailures > 0 {
                self.readiness.recordSourceReadFailure(error.description)
            }
        }
        sample.successfulReads = health.successfulReads
        sample.failedReads = health.failedReads
    }

    func reportOutbox(_ sample: inout Sample) {
        do {
            let pending = try self.outbox.pendingCount()
            let oldest = try self.outbox.oldestPendingCreatedAt()
            self.metrics.outboxDepth.record(pending)
            let nowMilliseconds = Int64(Date().timeIntervalSince1970 * 1000)
            let age = oldest.map { max(0, nowMilliseconds - $0) } ?? 0
            self.metrics.oldestPendingAge.record(Double(age) / 1000)
            try self.countDetectedEvents(&sample)
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

    /// Counts event rows journaled after `sample.countedThroughSeq` by their `event_type`.
    func countDetectedEvents(_ sample: inout Sample) throws {
        var last = sample.countedThroughSeq
        while true {
            let rows = try self.outbox.messages(matching: OutboxQuery(kinds: [.event], afterSeq: last, limit: 500))
            var byType: [String: Int] = [:]
            for row in rows {
                byType[Self.eventType(of: row.payload), default: 0] += 1
                last = max(last, row.seq)
            }
            for (type, count) in byType {
                self.metrics.eventDetected(type: type, count: count)
            }
            if rows.count < 500 { break }
        }
        sample.countedThroughSeq = last
    }

    /// The `event_type` member of a journaled event (`other` when unreadable).
    static func eventType(of payload: [UInt8]) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
            let type = object["event_type"] as? String
        else { return "other" }
        return type
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
