
extension DeliveryWorker {
    func housekeeping(_ state: inout LoopState, now: ContinuousClock.Instant) {
        refreshStatus(&state, now: now, force: false)
        if let last = state.lastPrune, now - last < configuration.pruneInterval { return }
        state.lastPrune = now
        let retentionMillis = Backoff.nanoseconds(configuration.retention) / 1_000_000
        do {
            let pruned = try journal.prune(
                olderThan: Self.epochMilliseconds() - retentionMillis, maxBytes: configuration.maxOutboxBytes)
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
            let age = oldest.map { max(0, (Self.epochMilliseconds() - $0) / 1000) }
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

    /// Sleeps for `duration`, cut short by the start of a graceful shutdown and bounded by the drain
    /// deadline once draining.
    func interruptibleSleep(for duration: Duration, state: LoopState) async {
        guard duration > .zero else { return }
        if let deadline = state.drainDeadline {
            let remaining = deadline - .now
            guard remaining > .zero else { return }
            try? await Task.sleep(for: min(duration, remaining))
        } else {
            await shutdownSignal.wait(timeout: duration)
        }
    }
}
