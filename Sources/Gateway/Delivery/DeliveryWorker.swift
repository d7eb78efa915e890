import Logging
import Outbox
import ServiceLifecycle
import Synchronization
import WireContract

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// Drains the outbox to NATS in journal order (a swift-service-lifecycle `Service`).
///
/// Pages pending rows from disk, seals each message at send time, keeps at most `maxInFlight`
/// messages unacknowledged, and marks a message delivered only once its acknowledgement arrived
/// (go-back-N, see ``DeliveryWindow``). Transient failures back off (``Backoff``) and feed the
/// ``CircuitBreaker``; poison messages are parked. On graceful shutdown it keeps draining until the
/// outbox is empty or `shutdownTimeout` elapsed, flushes, and returns; what remains stays journaled.
/// List it *before* the detection service in the `ServiceGroup`: services shut down in reverse
/// order, so detection stops first and the worker drains what it wrote.
public final class DeliveryWorker: Service, Sendable {
    /// Builds a signed heartbeat from the current status, or `nil` to skip this beat.
    public typealias HeartbeatBuilder = @Sendable (DeliveryStatus) throws -> OutgoingMessage?

    let journal: any DeliveryJournal
    let transport: any DeliveryTransport
    let sealer: any DeliverySealer
    let configuration: DeliveryWorkerConfiguration
    let observer: (any DeliveryObserver)?
    let heartbeat: HeartbeatBuilder?
    let logger: Logger
    /// Wake the worker when new rows land (handed to the detection service).
    public let wakeSignal: DeliveryWakeSignal
    /// The latest status, readable from any task.
    public let status: DeliveryStatusBoard
    let shutdownSignal = DeliveryWakeSignal()
    let shuttingDown = Atomic<Bool>(false)
    let drainExpiry = DrainExpiry()

    public init(
        journal: any DeliveryJournal, transport: any DeliveryTransport, sealer: any DeliverySealer,
        configuration: DeliveryWorkerConfiguration, observer: (any DeliveryObserver)? = nil,
        heartbeat: HeartbeatBuilder? = nil, wakeSignal: DeliveryWakeSignal = DeliveryWakeSignal(),
        status: DeliveryStatusBoard = DeliveryStatusBoard(), logger: Logger
    ) {
        self.journal = journal
        self.transport = transport
        self.sealer = sealer
        self.configuration = configuration
        self.observer = observer
        self.heartbeat = heartbeat
        self.wakeSignal = wakeSignal
        self.status = status
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let interval = configuration.heartbeatInterval, heartbeat != nil {
                    group.addTask { await self.heartbeatLoop(interval: interval) }
                }
                try await self.deliveryLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            let expiry = self.drainExpiry
            let timeout = self.configuration.shutdownTimeout
            Task {
                try? await Task.sleep(for: timeout)
                expiry.expire()
            }
            self.shuttingDown.store(true, ordering: .sequentiallyConsistent)
            self.shutdownSignal.wake()
            self.wakeSignal.wake()
        }
    }

    // MARK: - Delivery loop

    func deliveryLoop() async throws {
        let clock = ContinuousClock()
        var state = LoopState(
            window: DeliveryWindow(capacity: configuration.maxInFlight),
            breaker: CircuitBreaker(
                failureThreshold: configuration.breakerFailureThreshold, cooldown: configuration.breakerCooldown)
        )
        logger.info("delivery worker started", metadata: ["delivery.max_in_flight": "\(configuration.maxInFlight)"])
        delivery: while true {
            try Task.checkCancellation()
            if state.drainDeadline == nil && shuttingDown.load(ordering: .sequentiallyConsistent) {
                state.drainDeadline = clock.now.advanced(by: configuration.shutdownTimeout)
                logger.info("draining the outbox before shutdown")
            }
            if let deadline = state.drainDeadline, clock.now >= deadline {
                logger.warning(
                    "shutdown timeout reached with messages still pending",
                    metadata: ["delivery.in_flight": "\(state.window.inFlightCount)"])
                break delivery
            }
            housekeeping(&state, now: clock.now)

            switch state.window.nextStep() {
            case .fetch(let afterSeq, let limit):
                if try await !prepareIfNeeded(&state) { continue }
                var pageLimit = min(limit, configuration.pageSize)
                switch state.breaker.permit(now: clock.now) {
                case .allowed(let probe, let transition):
                    if let transition { report(transition, &state) }
                    if probe { pageLimit = 1 }
                case .refused(let until):
                    if state.window.inFlightCount == 0 {
                        await interruptibleSleep(for: until - clock.now, state: state)
                    } else {
                        await collectAcknowledgements(&state)
                    }
                    continue
                }
                flushDelivered(&state)
                await sendPage(afterSeq: afterSeq, limit: pageLimit, state: &state)
            case .awaitAcknowledgement:
                await collectAcknowledgements(&state)
            case .rewind(let seq, let failure):
                flushDelivered(&state)
                state.failedRounds += 1
                if let transition = state.breaker.recordFailure(now: clock.now) { report(transition, &state) }
                let delay = configuration.backoff.delay(attempt: state.failedRounds - 1)
                logger.warning(
                    "delivery failed; going back to the first unacknowledged message",
                    metadata: [
                        "outbox.seq": "\(seq)", "delivery.error": "\(failure)",
                        "delivery.backoff_ms":
                            "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    ])
                await interruptibleSleep(for: delay, state: state)
                state.prepared = false
            case .idle:
                flushDelivered(&state)
                refreshStatus(&state, now: clock.now, force: state.drainDeadline != nil)
                if state.drainDeadline != nil {
                    logger.info("outbox drained")
                    break delivery
                }
                await wakeSignal.wait(timeout: configuration.pollInterval)
                state.window.wake()
                continue
            }
        }
        flushDelivered(&state)
        let transport = self.transport
        switch await boundedByDrainTime({
            try await transport.flush()
            return nil
        }) {
        case .failed(let error):
            logger.warning("final flush failed", metadata: ["delivery.error": "\(transport.classify(error))"])
        case .deadlinePassed:
            logger.warning("final flush abandoned at the shutdown timeout")
        case .acknowledged:
            break
        }
        refreshStatus(&state, now: clock.now, force: true)
        logger.info("delivery worker stopped", metadata: ["outbox.pending": "\(status.current.outboxDepth)"])
    }

    /// Makes the transport ready once per round; on failure backs off and returns false.
    func prepareIfNeeded(_ state: inout LoopState) async throws -> Bool {
        if state.prepared { return true }
        let transport = self.transport
        let outcome = await boundedByDrainTime {
            try await transport.prepare()
            return nil
        }
        switch outcome {
        case .acknowledged:
            state.prepared = true
            return true
        case .deadlinePassed:
            state.drainDeadline = .now
            return false
        case .failed(let error):
            let failure = transport.classify(error)
            recordAttemptFailure(failure, &state)
            state.failedRounds += 1
            if let transition = state.breaker.recordFailure(now: .now) { report(transition, &state) }
            let delay = configuration.backoff.delay(attempt: state.failedRounds - 1)
            logger.warning("delivery target not ready", metadata: ["delivery.error": "\(failure)"])
            await interruptibleSleep(for: delay, state: state)
            return false
        }
    }

    /// Reads one page and sends it in order while the window allows.
    func sendPage(afterSeq: Int64, limit: Int, state: inout LoopState) async {
        let page: [OutboxMessage]
        do {
            page = try journal.pendingMessages(afterSeq: afterSeq, limit: limit)
        } catch {
            logger.error("reading the outbox failed", metadata: ["outbox.error": "\(error)"])
            state.window.fetched(count: 0)
            await interruptibleSleep(for: configuration.backoff.delay(attempt: 3), state: state)
            return
        }
        state.window.fetched(count: page.count)
        for message in page {
            guard state.window.maySend else { break }
            let sealed: OutgoingMessage
            do {
                sealed = try sealer.seal(message)
            } catch {
                let failure = DeliveryFailure(code: .sealing, message: "sealing failed: \(error)")
                let resolution = state.window.sendFailed(seq: message.seq, failure: failure)
                apply(resolution, &state)
                continue
            }
            do {
                let audit =
                    configuration.auditLog
                    ? AuditedDelivery(
                        seq: message.seq, streamSequence: nil, subject: sealed.subject, messageID: message.messageID,
                        payloadSHA256: AuditRecord.sha256(sealed.payload)) : nil
                let receipt = try await transport.send(sealed)
                state.window.sent(seq: message.seq)
                state.receipts.append(InFlight(seq: message.seq, receipt: receipt, sentAt: .now, audit: audit))
            } catch {
                let failure = transport.classify(error)
                let resolution = state.window.sendFailed(seq: message.seq, failure: failure)
                apply(resolution, &state)
                if !failure.isPoison { break }
            }
        }
    }

    /// Resolves, in send order and without suspending, every in-flight message whose outcome has
    /// already arrived. Only when the oldest one has not arrived yet does it wait (one bounded wait for
    /// the whole group, not one per acknowledgement), then resolves the ones that arrived meanwhile.
    func collectAcknowledgements(_ state: inout LoopState) async {
        if resolveArrived(&state) > 0 { return }
        guard let oldest = state.takeOldestReceipt() else { return }
        let outcome = await boundedByDrainTime { try await oldest.receipt.acknowledgement() }
        switch outcome {
        case .acknowledged(let streamSequence):
            acknowledged(oldest, streamSequence: streamSequence, now: .now, &state)
        case .failed(let error):
            failed(oldest, error: error, &state)
        case .deadlinePassed:
            // Shutting down and out of time: the row stays pending (resent after the restart, where
            // JetStream drops the duplicate); the loop stops at its deadline check.
            state.drainDeadline = .now
            return
        }
        resolveArrived(&state)
    }

    /// Resolves the oldest in-flight messages whose outcomes have arrived; returns how many.
    @discardableResult
    func resolveArrived(_ state: inout LoopState) -> Int {
        var resolved = 0
        let now = ContinuousClock.now
        while let oldest = state.oldestReceipt, let outcome = oldest.receipt.arrivedOutcome() {
            _ = state.takeOldestReceipt()
            switch outcome {
            case .success(let streamSequence):
                acknowledged(oldest, streamSequence: streamSequence, now: now, &state)
            case .failure(let error):
                failed(oldest, error: error, &state)
            }
            resolved += 1
        }
        return resolved
    }

    func acknowledged(
        _ inFlight: InFlight, streamSequence: UInt64?, now: ContinuousClock.Instant, _ state: inout LoopState
    ) {
        state.latencies.append(now - inFlight.sentAt)
        let resolution = state.window.acknowledged(seq: inFlight.seq, streamSequence: streamSequence)
        if var audit = inFlight.audit {
            audit.streamSequence = streamSequence
            state.auditBuffer.append(audit)
        }
        apply(resolution, &state)
        state.failedRounds = 0
        if let transition = state.breaker.recordSuccess() { report(transition, &state) }
    }

    func failed(_ inFlight: InFlight, error: any Error, _ state: inout LoopState) {
        let failure = transport.classify(error)
        let resolution = state.window.failed(seq: inFlight.seq, failure: failure)
        apply(resolution, &state)
    }

}
