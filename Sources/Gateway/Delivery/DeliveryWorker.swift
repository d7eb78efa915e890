import Logging
import Outbox
import ServiceLifecycle
import Timekeeping
import WireContract

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
    /// One builder per watched manager, each publishing its own heartbeat every interval.
    let heartbeats: [HeartbeatBuilder]
    let logger: Logger
    /// Wake the worker when new rows land (handed to the detection service).
    public let wakeSignal: DeliveryWakeSignal
    /// The latest status, readable from any task.
    public let status: DeliveryStatusBoard
    let shutdownSignal = DeliveryWakeSignal()
    /// Monotonic time for deadlines, backoff and intervals; wall time for the journal's timestamps.
    let clock: any GatewayClock
    let drain: DrainDeadline

    public init(
        journal: any DeliveryJournal, transport: any DeliveryTransport, sealer: any DeliverySealer,
        configuration: DeliveryWorkerConfiguration, observer: (any DeliveryObserver)? = nil,
        heartbeat: HeartbeatBuilder? = nil, heartbeats: [HeartbeatBuilder] = [],
        wakeSignal: DeliveryWakeSignal = DeliveryWakeSignal(),
        status: DeliveryStatusBoard = DeliveryStatusBoard(), clock: any GatewayClock = SystemClock(),
        logger: Logger
    ) {
        self.journal = journal
        self.transport = transport
        self.sealer = sealer
        self.configuration = configuration
        self.observer = observer
        self.heartbeats = (heartbeat.map { [$0] } ?? []) + heartbeats
        self.wakeSignal = wakeSignal
        self.status = status
        self.clock = clock
        self.drain = DrainDeadline(clock: clock)
        self.logger = logger
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let interval = configuration.heartbeatInterval, !heartbeats.isEmpty {
                    group.addTask { await self.heartbeatLoop(interval: interval) }
                }
                defer { self.drain.cancelTimer() }
                try await self.deliveryLoop()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.drain.start(deadline: self.clock.now.advanced(by: self.configuration.shutdownTimeout))
            self.shutdownSignal.wake()
            self.wakeSignal.wake()
        }
    }

    // MARK: - Delivery loop

    func deliveryLoop() async throws {
        var state = LoopState(
            window: DeliveryWindow(capacity: configuration.maxInFlight),
            breaker: CircuitBreaker(
                failureThreshold: configuration.breakerFailureThreshold, cooldown: configuration.breakerCooldown)
        )
        logger.info("delivery worker started", metadata: ["delivery.max_in_flight": "\(configuration.maxInFlight)"])
        delivery: while true {
            try Task.checkCancellation()
            if !state.announcedDrain && drain.isDraining {
                state.announcedDrain = true
                logger.info("draining the outbox before shutdown")
            }
            if drain.isOver {
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
                        await interruptibleSleep(for: until - clock.now)
                    } else {
                        await collectAcknowledgements(&state)
                    }
                    continue
                }
                // Acknowledged rows are marked a page at a time (``apply``), when the window goes idle,
                // before a rewind or a park, and at the end — not before every refill: a refill comes
                // every quarter window, and marking a quarter window per transaction cost more than the
                // rows themselves (the index pages were rewritten four times as often).
                await sendPage(afterSeq: afterSeq, limit: pageLimit, state: &state)
            case .awaitAcknowledgement:
                await collectAcknowledgements(&state)
            case .rewind(let seq, let failure):
                flushDelivered(&state)
                await backOffAfterFailedRound(
                    &state, "delivery failed; going back to the first unacknowledged message",
                    metadata: ["outbox.seq": "\(seq)", "delivery.error": "\(failure)"])
            case .idle:
                flushDelivered(&state)
                let draining = drain.isDraining
                refreshStatus(&state, now: clock.now, force: draining)
                if draining {
                    logger.info("outbox drained")
                    break delivery
                }
                await wakeSignal.wait(timeout: configuration.pollInterval, clock: clock)
                state.window.wake()
                continue
            }
        }
        flushDelivered(&state)
        let transport = self.transport
        switch await drain.bounded({
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
        let outcome = await drain.bounded {
            try await transport.prepare()
            return nil
        }
        switch outcome {
        case .acknowledged:
            state.prepared = true
            return true
        case .deadlinePassed:
            drain.expire()
            return false
        case .failed(let error):
            let failure = transport.classify(error)
            recordAttemptFailure(failure, &state)
            await backOffAfterFailedRound(
                &state, "delivery target not ready", metadata: ["delivery.error": "\(failure)"])
            return false
        }
    }

    /// Reads one page and sends it in order while the window allows.
    ///
    /// The page is sealed message by message and handed to the transport as one group
    /// (``DeliveryTransport/sendBatch(_:)``); a message that cannot be sealed first sends the group
    /// sealed before it, so journal order and the handling of that message stay exactly as one by one.
    func sendPage(afterSeq: Int64, limit: Int, state: inout LoopState) async {
        let page: [OutboxMessage]
        do {
            page = try journal.pendingMessages(afterSeq: afterSeq, limit: limit)
        } catch {
            logger.error("reading the outbox failed", metadata: ["outbox.error": "\(error)"])
            state.window.fetched(count: 0)
            await interruptibleSleep(for: configuration.backoff.delay(attempt: 3))
            return
        }
        state.window.fetched(count: page.count)
        var group: [SealedOutboxMessage] = []
        group.reserveCapacity(min(page.count, state.window.capacity - state.window.inFlightCount))
        for message in page {
            guard state.window.maySend && state.window.inFlightCount + group.count < state.window.capacity else {
                break
            }
            do {
                group.append(SealedOutboxMessage(message: message, sealed: try sealer.seal(message)))
            } catch {
                if !group.isEmpty {
                    await send(group, state: &state)
                    group.removeAll(keepingCapacity: true)
                    guard state.window.maySend else { return }
                }
                let failure = DeliveryFailure(code: .sealing, message: "sealing failed: \(error)")
                let resolution = state.window.sendFailed(seq: message.seq, failure: failure)
                apply(resolution, &state)
            }
        }
        if !group.isEmpty { await send(group, state: &state) }
    }

    /// Sends sealed messages in journal order: as one batch when the transport has a batch path and
    /// accepts the group, otherwise one by one (a transient failure stops the rest; a poison one parks
    /// its message and goes on).
    func send(_ group: [SealedOutboxMessage], state: inout LoopState) async {
        if group.count > 1, let receipts = try? await transport.sendBatch(group.map(\.sealed)) {
            let now = clock.now
            for (index, item) in group.enumerated() {
                guard index < receipts.count else {
                    // A transport that answered for fewer messages than it was given: the rest is resent.
                    let failure = DeliveryFailure(code: .other, message: "no receipt for a message of the batch")
                    apply(state.window.sendFailed(seq: item.message.seq, failure: failure), &state)
                    return
                }
                state.window.sent(seq: item.message.seq)
                state.receipts.append(
                    InFlight(seq: item.message.seq, receipt: receipts[index], sentAt: now, audit: audit(for: item)))
            }
            return
        }
        for item in group {
            guard state.window.maySend else { return }
            do {
                let receipt = try await transport.send(item.sealed)
                state.window.sent(seq: item.message.seq)
                state.receipts.append(
                    InFlight(seq: item.message.seq, receipt: receipt, sentAt: clock.now, audit: audit(for: item)))
            } catch {
                let failure = transport.classify(error)
                let resolution = state.window.sendFailed(seq: item.message.seq, failure: failure)
                apply(resolution, &state)
                if !failure.isPoison { return }
            }
        }
    }

    /// What the audit log records for `item` once acknowledged (`nil` with the audit log off).
    func audit(for item: SealedOutboxMessage) -> AuditedDelivery? {
        guard configuration.auditLog else { return nil }
        return AuditedDelivery(
            seq: item.message.seq, streamSequence: nil, subject: item.sealed.subject,
            messageID: item.message.messageID, payloadSHA256: AuditRecord.sha256(item.sealed.payload))
    }

    /// Resolves, in send order and without suspending, every in-flight message whose outcome has
    /// already arrived. Only when the oldest one has not arrived yet does it wait (one bounded wait for
    /// the whole group, not one per acknowledgement), then resolves the ones that arrived meanwhile.
    func collectAcknowledgements(_ state: inout LoopState) async {
        if resolveArrived(&state) > 0 { return }
        guard let oldest = state.takeOldestReceipt() else { return }
        let outcome = await drain.bounded { try await oldest.receipt.acknowledgement() }
        switch outcome {
        case .acknowledged(let streamSequence):
            acknowledged(oldest, streamSequence: streamSequence, now: clock.now, &state)
        case .failed(let error):
            failed(oldest, error: error, &state)
        case .deadlinePassed:
            // Shutting down and out of time: the row stays pending (resent after the restart, where
            // JetStream drops the duplicate); the loop stops at its deadline check.
            drain.expire()
            return
        }
        resolveArrived(&state)
    }

    /// Resolves the oldest in-flight messages whose outcomes have arrived; returns how many.
    @discardableResult
    func resolveArrived(_ state: inout LoopState) -> Int {
        var resolved = 0
        let now = clock.now
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
