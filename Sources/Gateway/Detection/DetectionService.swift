import Logging
import Outbox
import ServiceLifecycle
import Timekeeping
import WazuhSource

/// Consumes the source's updates and journals each one — its events and the new snapshot in ONE
/// outbox transaction — then wakes the delivery worker (a swift-service-lifecycle `Service`). The
/// snapshot is journaled as a delta since a base when few agents moved (``JournaledSnapshot``).
///
/// The monitor diffs against the snapshot this service last *confirmed* (persisted), so a failed
/// write loses nothing: the same update is retried (with backoff) until it is journaled or the
/// service shuts down, and after a restart the diff starts from the journaled snapshot. On the very
/// first start (no snapshot in the outbox) the current state is recorded as the baseline and no
/// per-agent events are produced.
public final class DetectionService: Service, Sendable {
    /// Told about the changes of each detection once they are journaled (for metrics).
    public typealias JournaledObserver = @Sendable (_ changes: [AgentChange]) -> Void
    /// Told the snapshot the service holds as confirmed: the journaled one at start, then each
    /// newly journaled one (for the dashboard's fleet counts).
    public typealias SnapshotObserver = @Sendable (_ snapshot: AgentSnapshot) -> Void
    /// Told each failed attempt to journal a cycle (`cause` says why, e.g. the outbox's disk is full)
    /// and, with `nil`, when a cycle is journaled again after failures (for readiness and metrics).
    public typealias JournalHealthObserver = @Sendable (_ cause: String?) -> Void

    private let monitor: any AgentStatusSourcing
    private let store: OutboxStore
    private let encoder: DetectionEncoder
    private let wakeSignal: DeliveryWakeSignal
    private let retryBackoff: Backoff
    private let onJournaled: JournaledObserver?
    private let anomalies: AnomalyJournal?
    private let anomalyCheckInterval: Duration
    private let onConfirmedSnapshot: SnapshotObserver?
    private let onJournalHealth: JournalHealthObserver?
    private let clock: any GatewayClock
    private let logger: Logger
    /// Changes from which a cycle counts as large enough to return its memory afterwards.
    static let largeCycle = 500

    /// - Parameters:
    ///   - anomalies: when set, each cycle's anomaly findings are journaled in the cycle's transaction,
    ///     and fleet silence is checked every `anomalyCheckInterval` between cycles.
    ///   - clock: times the retry backoff and the anomaly checks, and stamps detections (wall time).
    public init(
        monitor: any AgentStatusSourcing, store: OutboxStore, encoder: DetectionEncoder, wakeSignal: DeliveryWakeSignal,
        retryBackoff: Backoff = Backoff(base: .milliseconds(100), cap: .seconds(5)),
        onJournaled: JournaledObserver? = nil, onConfirmedSnapshot: SnapshotObserver? = nil,
        onJournalHealth: JournalHealthObserver? = nil, anomalies: AnomalyJournal? = nil,
        anomalyCheckInterval: Duration = .seconds(30), clock: any GatewayClock = SystemClock(), logger: Logger
    ) {
        self.onConfirmedSnapshot = onConfirmedSnapshot
        self.onJournalHealth = onJournalHealth
        self.monitor = monitor
        self.store = store
        self.encoder = encoder
        self.wakeSignal = wakeSignal
        self.retryBackoff = retryBackoff
        self.onJournaled = onJournaled
        self.anomalies = anomalies
        self.anomalyCheckInterval = anomalyCheckInterval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        guard let anomalies else { return await self.detect() }
        anomalies.restore(from: store)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.checkBetweenCycles(anomalies) }
            await self.detect()
            group.cancelAll()
        }
    }

    /// Fleet silence produces no source update, so it is checked on a timer.
    private func checkBetweenCycles(_ anomalies: AnomalyJournal) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await self.clock.sleep(for: self.anomalyCheckInterval) }
            } catch {
                return
            }
            do {
                if try !anomalies.tick(store: store).isEmpty { wakeSignal.wake() }
            } catch {
                logger.error(
                    "journaling an anomaly failed; retried at the next check", metadata: ["outbox.error": "\(error)"])
            }
        }
    }

    private func detect() async {
        let loaded = loadConfirmedSnapshot()
        var confirmed = loaded?.snapshot
        var journaled = loaded?.journal
        if let confirmed { onConfirmedSnapshot?(confirmed) }
        while !Task.isShuttingDownGracefully {
            let update: SourceUpdate
            let previous = confirmed
            do {
                update = try await cancelWhenGracefulShutdown { try await self.monitor.nextUpdate(after: previous) }
            } catch {
                return
            }
            // Detection pauses here until the cycle is journaled: the same update (its diff and snapshot)
            // is retried, so nothing detected is dropped, and the next read diffs against it.
            var attempt = 0
            var compactAfter = false
            while true {
                do {
                    compactAfter = try persist(update, hadSnapshot: confirmed != nil, journal: &journaled)
                    break
                } catch {
                    let cause = (error as? OutboxError)?.cause ?? "\(error)"
                    onJournalHealth?(cause)
                    logger.error(
                        "journaling detected changes failed; detection paused, retrying",
                        metadata: [
                            "outbox.cause": "\(cause)", "outbox.error": "\(error)",
                            "detection.changes": "\(update.changes.count)", "detection.attempt": "\(attempt + 1)",
                        ])
                    if Task.isShuttingDownGracefully || Task.isCancelled { return }
                    try? await clock.sleep(for: retryBackoff.delay(attempt: attempt))
                    attempt += 1
                }
            }
            if attempt > 0 {
                onJournalHealth?(nil)
                logger.notice(
                    "journaling resumed; detection continues",
                    metadata: [
                        "detection.failed_attempts": "\(attempt)", "detection.changes": "\(update.changes.count)",
                    ])
            }
            confirmed = update.snapshot
            // Delivery first: the observers (metrics, the dashboard's counts) are not on the events' path.
            if !update.changes.isEmpty { wakeSignal.wake() }
            onConfirmedSnapshot?(update.snapshot)
            // A baseline journals no events, so it is not reported.
            if !update.changes.isEmpty, previous != nil { onJournaled?(update.changes) }
            if compactAfter { compact(update.snapshot, journal: &journaled) }
            // A storm-sized cycle's encoding is freed by now: give its pages back rather than keep them.
            if update.changes.count >= Self.largeCycle { HeapReturn.returnFreedMemory() }
        }
    }

    private func loadConfirmedSnapshot() -> (snapshot: AgentSnapshot, journal: JournaledSnapshot)? {
        do {
            return try JournaledSnapshot.load(from: store, now: clock.epochMilliseconds)
        } catch {
            logger.error("the journaled snapshot is unusable; re-baselining", metadata: ["outbox.error": "\(error)"])
            return nil
        }
    }

    /// Rewrites the journaled snapshot whole (between cycles, after delivery was woken), so that the
    /// next cycles' deltas stay small; a failure is logged and the delta kept (it is still valid).
    private func compact(_ snapshot: AgentSnapshot, journal: inout JournaledSnapshot?) {
        let exported = snapshot.export()
        do {
            try store.appendDetection(
                messages: [], snapshot: exported, meta: MetaUpdate(removed: [JournaledSnapshot.deltaKey]))
            journal = JournaledSnapshot(base: snapshot, exported: exported, writtenAt: clock.epochMilliseconds)
        } catch {
            logger.warning(
                "rewriting the journaled snapshot failed; retried after a later cycle",
                metadata: ["outbox.error": "\(error)"])
        }
    }

    /// Journals one cycle; returns whether the journaled snapshot's base is due for a rewrite.
    private func persist(_ update: SourceUpdate, hadSnapshot: Bool, journal: inout JournaledSnapshot?) throws -> Bool {
        if !hadSnapshot {
            let snapshot = update.snapshot.export()
            try store.recordBaseline(snapshot: snapshot)
            journal = JournaledSnapshot(base: update.snapshot, exported: snapshot, writtenAt: clock.epochMilliseconds)
            anomalies?.seed(with: update.snapshot)
            logger.notice(
                "recorded the first baseline; no events for the initial state",
                metadata: [
                    "wazuh.agents.total": "\(update.counts.total)", "wazuh.agents.active": "\(update.counts.active)",
                    "wazuh.agents.disconnected": "\(update.counts.disconnected)",
                ])
            return false
        }
        let now = clock.epochMilliseconds
        let rows = encoder.messages(for: update.changes, counts: update.counts, detectedAtMilliseconds: now)
        let write = journal?.write(for: update.snapshot) ?? .whole(update.snapshot.export())
        // The snapshot goes in the events' transaction: as a delta when small, else whole (delta dropped).
        func journalRows(_ journaled: [NewOutboxMessage], _ meta: MetaUpdate) throws -> Int {
            var meta = meta
            switch write {
            case .delta(let value, _):
                meta.values[JournaledSnapshot.deltaKey] = value
                return try store.appendMessages(journaled, meta: meta)
            case .whole(let exported):
                meta.removed.append(JournaledSnapshot.deltaKey)
                return try store.appendDetection(messages: journaled, snapshot: exported, meta: meta)
            }
        }
        var inserted = 0
        if let anomalies {
            try anomalies.journalCycle(
                update.changes, rows: rows, snapshot: update.snapshot, detectedAtMilliseconds: now
            ) { journaled, meta in
                inserted = try journalRows(journaled, meta)
            }
        } else {
            inserted = try journalRows(rows, MetaUpdate())
        }
        var compactionDue = false
        switch write {
        case .delta(_, let agents):
            compactionDue = journal?.compactionDue(afterDeltaOf: agents, now: now) ?? false
        case .whole(let exported):
            journal = JournaledSnapshot(base: update.snapshot, exported: exported, writtenAt: now)
        }
        if !update.changes.isEmpty {
            // The cycle's batch id is deterministic and travels in the stream as the batch's Nats-Msg-Id,
            // so it correlates this log line with the delivery logs and with what consumers receive.
            let correlationID = rows.first(where: { $0.kind == .batch })?.eventID ?? "cycle-\(now)"
            logger.info(
                "journaled detected changes",
                metadata: [
                    "gateway.correlation_id": "\(correlationID)", "detection.changes": "\(update.changes.count)",
                    "outbox.inserted": "\(inserted)",
                ])
        }
        return compactionDue
    }
}
