import Logging
import Timekeeping

/// The worker's periodic chores between pages (retention pruning, status refresh) and its waits.
extension DeliveryWorker {
    func housekeeping(_ state: inout LoopState, now: ContinuousClock.Instant) {
        refreshStatus(&state, now: now, force: false)
        if let last = state.lastPrune, now - last < configuration.pruneInterval { return }
        state.lastPrune = now
        do {
            let pruned = try journal.prune(
                olderThan: clock.epochMilliseconds - configuration.retention.wholeMilliseconds,
                maxBytes: configuration.maxOutboxBytes)
            if pruned > 0 { logger.info("pruned delivered outbox rows", metadata: ["outbox.pruned": "\(pruned)"]) }
        } catch {
            logger.error("outbox retention pruning failed", metadata: ["outbox.error": "\(error)"])
        }
    }

    func refreshStatus(_ state: inout LoopState, now: ContinuousClock.Instant, force: Bool) {
        if !force, let last = state.lastStatusRefresh, now - last < configuration.statusRefreshInterval { return }
        state.lastStatusRefresh = now
        do {
            let pending = try journal.pendingCount()
            let oldest = try journal.oldestPendingCreatedAt()
            let age = oldest.map { max(0, (clock.epochMilliseconds - $0) / 1000) }
            let connection = transport.connectionState
            status.update {
                $0.outboxDepth = pending
                $0.oldestPendingAgeSeconds = age
                $0.connectionState = connection
            }
            observer?.outboxDepthChanged(pending: pending, oldestPendingAgeSeconds: age)
        } catch {
            logger.error("counting pending outbox rows failed", metadata: ["outbox.error": "\(error)"])
        }
    }

    /// A round failed (the transport was not ready, or a send or acknowledgement failed): counts it,
    /// feeds the breaker, logs `message` with the backoff, waits it out, and makes the transport be
    /// prepared again.
    func backOffAfterFailedRound(
        _ state: inout LoopState, _ message: Logger.Message, metadata: Logger.Metadata
    ) async {
        state.failedRounds += 1
        if let transition = state.breaker.recordFailure(now: clock.now) { report(transition, &state) }
        let delay = configuration.backoff.delay(attempt: state.failedRounds - 1)
        var metadata = metadata
        metadata["delivery.backoff_ms"] = "\(delay.wholeMilliseconds)"
        logger.warning(message, metadata: metadata)
        await interruptibleSleep(for: delay)
        state.prepared = false
    }

    /// Sleeps for `duration`, cut short by the start of a graceful shutdown and bounded by the drain
    /// deadline once draining.
    func interruptibleSleep(for duration: Duration) async {
        guard duration > .zero else { return }
        if let remaining = drain.remaining {
            guard remaining > .zero else { return }
            try? await clock.sleep(for: min(duration, remaining))
        } else {
            await shutdownSignal.wait(timeout: duration, clock: clock)
        }
    }
}
