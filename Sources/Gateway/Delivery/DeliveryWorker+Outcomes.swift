import Outbox
import WireContract

extension DeliveryWorker {
    func apply(_ resolution: DeliveryWindow.Resolution, _ state: inout LoopState) {
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

    func recordAttemptFailure(_ failure: DeliveryFailure, _ state: inout LoopState) {
        status.update {
            $0.failedAttemptsTotal += 1
            $0.lastError = failure
        }
        observer?.attemptFailed(failure)
    }

    /// Writes buffered acknowledgements to the journal in one transaction.
    func flushDelivered(_ state: inout LoopState) {
        guard !state.deliveredBuffer.isEmpty else { return }
        let delivered = state.deliveredBuffer
        let latencies = state.latencies
        let audited = state.auditBuffer
        state.deliveredBuffer.removeAll(keepingCapacity: true)
        state.latencies.removeAll(keepingCapacity: true)
        state.auditBuffer.removeAll(keepingCapacity: true)
        do {
            if configuration.auditLog && audited.count == delivered.count {
                let head = try journal.markDelivered(audited: audited, at: clock.epochMilliseconds)
                status.update { $0.auditHead = head }
            } else {
                try journal.markDelivered(delivered, at: clock.epochMilliseconds)
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

    func report(_ transition: BreakerTransition, _ state: inout LoopState) {
        logger.notice(
            "circuit breaker changed state",
            metadata: ["delivery.breaker.from": "\(transition.from)", "delivery.breaker.to": "\(transition.to)"])
        status.update { $0.breakerState = transition.to }
        observer?.breakerChanged(transition)
    }
}
