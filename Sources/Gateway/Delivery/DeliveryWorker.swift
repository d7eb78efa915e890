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

    private let journal: any DeliveryJournal
    private let transport: any DeliveryTransport
    private let sealer: any DeliverySealer
    private let configuration: DeliveryWorkerConfiguration
    private let observer: (any DeliveryObserver)?
    private let heartbeat: HeartbeatBuilder?
    private let logger: Logger
    /// Wake the worker when new rows land (handed to the detection service).
    public let wakeSignal: DeliveryWakeSignal
    /// The latest status, readable from any task.
    public let status: DeliveryStatusBoard
    private let shutdownSignal = DeliveryWakeSignal()
    private let shuttingDown = Atomic<Bool>(false)
    private let drainExpiry = DrainExpiry()

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

    private struct InFlight {
        var seq: Int64
        var receipt: DeliveryReceipt
        var sentAt: ContinuousClock.Instant
        /// What the audit log records once acknowledged (`nil` with the audit log off).
        var audit: AuditedDelivery?
    }

    private struct LoopState {
        var window: DeliveryWindow
        var breaker: CircuitBreaker<ContinuousClock.Instant>
        var receipts: [InFlight] = []
        var receiptHead = 0
        var deliveredBuffer: [(seq: Int64, streamSequence: UInt64?)] = []
        /// The same rows as `deliveredBuffer` with their audit data, when the audit log is on.
        var auditBuffer: [AuditedDelivery] = []
        var latencies: [Duration] = []
        var failedRounds = 0
        var prepared = false
        var drainDeadline: ContinuousClock.Instant?
        var lastStatusRefresh: ContinuousClock.Instant?
        var lastPrune: ContinuousClock.Instant?

        /// The oldest receipt still in flight.
        var oldestReceipt: InFlight? {
            receiptHead < receipts.count ? receipts[receiptHead] : nil
        }

        /// Removes and returns the oldest receipt still in flight.
        mutating func takeOldestReceipt() -> InFlight? {
            guard receiptHead < receipts.count else { return nil }
            let oldest = receipts[receiptHead]
            receiptHead += 1
            if receiptHead == receipts.count {
                receipts.removeAll(keepingCapacity: true)
                receiptHead = 0
            } else if receiptHead >= 1024 {
                receipts.removeFirst(receiptHead)
                receiptHead = 0
            }
            return oldest
        }
    }

    private func deliveryLoop() async throws {
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
    private func prepareIfNeeded(_ state: inout LoopState) async throws -> Bool {
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
    private func sendPage(afterSeq: Int64, limit: Int, state: inout LoopState) async {
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
    private func collectAcknowledgements(_ state: inout LoopState) async {
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
    private func resolveArrived(_ state: inout LoopState) -> Int {
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

    private func acknowledged(
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

    private func failed(_ inFlight: InFlight, error: any Error, _ state: inout LoopState) {
        let failure = transport.classify(error)
        let resolution = state.window.failed(seq: inFlight.seq, failure: failure)
        apply(resolution, &state)
    }

    private enum AcknowledgementOutcome: Sendable {
        case acknowledged(UInt64?)
        case failed(any Error)
        case deadlinePassed
    }

    /// Runs `work` (an acknowledgement wait, the stream setup, the final flush) in its own task and
    /// returns its outcome, or `.deadlinePassed` as soon as a graceful shutdown's drain time is over,
    /// even when the wait started before the shutdown: a lost acknowledgement must not hold the
    /// shutdown for a whole ack timeout. An abandoned wait finishes detached (bounded by the
    /// transport's own timeout); its outcome is dropped, the row stays pending.
    private func boundedByDrainTime(
        _ work: @escaping @Sendable () async throws -> UInt64?
    ) async -> AcknowledgementOutcome {
        let outcome = await withCheckedContinuation {
            (continuation: CheckedContinuation<AcknowledgementOutcome, Never>) in
            let once = ResumeOnce(continuation)
            drainExpiry.register(once)
            Task {
                do {
                    once.resume(.acknowledged(try await work()))
                } catch {
                    once.resume(.failed(error))
                }
            }
        }
        drainExpiry.unregister()
        return outcome
    }

    /// Resumes a continuation with the first outcome offered; later ones are dropped.
    private final class ResumeOnce: Sendable {
        private let continuation: Mutex<CheckedContinuation<AcknowledgementOutcome, Never>?>

        init(_ continuation: CheckedContinuation<AcknowledgementOutcome, Never>) {
            self.continuation = Mutex(continuation)
        }

        func resume(_ outcome: AcknowledgementOutcome) {
            let pending = continuation.withLock { slot in
                defer { slot = nil }
                return slot
            }
            pending?.resume(returning: outcome)
        }
    }

    /// Ends the wait in progress (and every later one) once the shutdown's drain time is over.
    private final class DrainExpiry: Sendable {
        private struct State {
            var expired = false
            var current: ResumeOnce?
        }
        private let state = Mutex(State())

        func register(_ waiter: ResumeOnce) {
            let expired = state.withLock { state in
                if !state.expired { state.current = waiter }
                return state.expired
            }
            if expired { waiter.resume(.deadlinePassed) }
        }

        func unregister() {
            state.withLock { $0.current = nil }
        }

        func expire() {
            let current = state.withLock { state in
                state.expired = true
                defer { state.current = nil }
                return state.current
            }
            current?.resume(.deadlinePassed)
        }
    }

    private func apply(_ resolution: DeliveryWindow.Resolution, _ state: inout LoopState) {
        switch resolution {
        case .markDelivered(let seq, let streamSequence):
            state.deliveredBuffer.append((seq, streamSequence))
            if state.deliveredBuffer.count >= configuration.pageSize { flushDelivered(&state) }
        case .park(let seq, let failure):
            flushDelivered(&state)
            logger.error(
                "message can never be delivered; parked",
                metadata: ["outbox.seq": "\(seq)", "delivery.error": "\(failure)"])
            do {
                try journal.park(seq: seq, error: failure.description)
            } catch {
                logger.error("parking failed", metadata: ["outbox.seq": "\(seq)", "outbox.error": "\(error)"])
            }
            status.update {
                $0.parkedTotal += 1
                $0.lastError = failure
            }
            observer?.parked(seq: seq, failure: failure)
        case .recordFailure(let seq, let failure):
            recordAttemptFailure(failure, &state)
            do {
                try journal.recordFailure(seq: seq, error: failure.description, nextAttemptAt: nil)
            } catch {
                logger.error(
                    "recording a failed attempt failed", metadata: ["outbox.seq": "\(seq)", "outbox.error": "\(error)"])
            }
        }
    }

    private func recordAttemptFailure(_ failure: DeliveryFailure, _ state: inout LoopState) {
        status.update {
            $0.failedAttemptsTotal += 1
            $0.lastError = failure
        }
        observer?.attemptFailed(failure)
    }

    /// Writes buffered acknowledgements to the journal in one transaction.
    private func flushDelivered(_ state: inout LoopState) {
        guard !state.deliveredBuffer.isEmpty else { return }
        let delivered = state.deliveredBuffer
        let latencies = state.latencies
        let audited = state.auditBuffer
        state.deliveredBuffer.removeAll(keepingCapacity: true)
        state.latencies.removeAll(keepingCapacity: true)
        state.auditBuffer.removeAll(keepingCapacity: true)
        do {
            if configuration.auditLog && audited.count == delivered.count {
                let head = try journal.markDelivered(audited: audited, at: Self.epochMilliseconds())
                status.update { $0.auditHead = head }
            } else {
                try journal.markDelivered(delivered, at: Self.epochMilliseconds())
            }
        } catch {
            // The rows stay pending and are resent later; JetStream drops the duplicates.
            logger.error(
                "marking messages delivered failed",
                metadata: ["outbox.error": "\(error)", "outbox.count": "\(delivered.count)"])
            return
        }
        status.update {
            $0.deliveredTotal += delivered.count
            $0.lastError = nil
        }
        observer?.delivered(count: delivered.count, ackLatencies: latencies)
        if let first = delivered.first?.seq, let last = delivered.last?.seq {
            logger.debug(
                "messages acknowledged and marked delivered",
                metadata: [
                    "gateway.correlation_id": "delivery-\(first)-\(last)", "outbox.first_seq": "\(first)",
                    "outbox.last_seq": "\(last)", "outbox.count": "\(delivered.count)",
                ])
        }
    }

    private func report(_ transition: BreakerTransition, _ state: inout LoopState) {
        logger.notice(
            "circuit breaker changed state",
            metadata: ["delivery.breaker.from": "\(transition.from)", "delivery.breaker.to": "\(transition.to)"])
        status.update { $0.breakerState = transition.to }
        observer?.breakerChanged(transition)
    }

    private func housekeeping(_ state: inout LoopState, now: ContinuousClock.Instant) {
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

    private func refreshStatus(_ state: inout LoopState, now: ContinuousClock.Instant, force: Bool) {
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
    private func interruptibleSleep(for duration: Duration, state: LoopState) async {
        guard duration > .zero else { return }
        if let deadline = state.drainDeadline {
            let remaining = deadline - .now
            guard remaining > .zero else { return }
            try? await Task.sleep(for: min(duration, remaining))
        } else {
            await shutdownSignal.wait(timeout: duration)
        }
    }

    // MARK: - Heartbeats

    private func heartbeatLoop(interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            guard let heartbeat, transport.isConnected else { continue }
            do {
                guard let message = try heartbeat(status.current) else { continue }
                try await transport.publishUnjournaled(message)
                if configuration.auditLog { try await auditHeartbeat(message) }
            } catch {
                logger.warning("heartbeat not published", metadata: ["delivery.error": "\(transport.classify(error))"])
            }
        }
    }

    /// Once a flush shows the server has the heartbeat, appends it to the audit chain (kind `heartbeat`).
    private func auditHeartbeat(_ message: OutgoingMessage) async throws {
        try await transport.flush()
        let record = AuditedDelivery(
            seq: 0, streamSequence: nil, subject: message.subject, messageID: message.header("Nats-Msg-Id") ?? "",
            payloadSHA256: AuditRecord.sha256(message.payload), kind: .heartbeat)
        if let head = try journal.appendAudit([record], at: Self.epochMilliseconds()) {
            status.update { if ($0.auditHead?.sequence ?? 0) < head.sequence { $0.auditHead = head } }
        }
    }

    static func epochMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
