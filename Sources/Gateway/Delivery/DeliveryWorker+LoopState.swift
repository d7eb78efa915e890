import Outbox

extension DeliveryWorker {
    /// A journaled message and what goes on the wire for it.
    struct SealedOutboxMessage {
        var message: OutboxMessage
        var sealed: OutgoingMessage
    }

    struct InFlight {
        var seq: Int64
        var receipt: DeliveryReceipt
        var sentAt: ContinuousClock.Instant
        /// What the audit log records once acknowledged (`nil` with the audit log off).
        var audit: AuditedDelivery?
    }

    struct LoopState {
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
        /// The start of the drain was logged.
        var announcedDrain = false
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
}
