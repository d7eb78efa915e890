/// The go-back-N delivery state machine: a bounded window of in-flight outbox messages, in journal order.
///
/// The worker asks ``nextStep()`` what to do, performs it, and reports back (``sent(seq:)``,
/// ``sendFailed(seq:failure:)``, ``acknowledged(seq:streamSequence:)``, ``failed(seq:failure:)``).
/// Acknowledgements must be reported in send order (the NATS client returns them in publish order).
///
/// On a transient failure the window stops sending, still collects the outstanding acknowledgements
/// (a message the server acknowledged is delivered even after an earlier failure — JetStream drops
/// the resends by `Nats-Msg-Id` anyway), and once nothing is in flight asks to rewind to the first
/// unacknowledged message; the next fetch starts there. A poison failure parks that message and
/// delivery goes on with the next one.
public struct DeliveryWindow: Sendable {
    /// What the worker should do next.
    public enum Step: Sendable, Hashable {
        /// Read up to `limit` pending messages with a sequence above `afterSeq` and send them in order.
        case fetch(afterSeq: Int64, limit: Int)
        /// Wait for the oldest in-flight acknowledgement.
        case awaitAcknowledgement
        /// A transient failure happened and nothing is in flight any more: back off, then resend
        /// from `seq` (the first unacknowledged message).
        case rewind(to: Int64, failure: DeliveryFailure)
        /// Nothing pending and nothing in flight: wait for a wake-up.
        case idle
    }

    /// What the worker should record for one resolved message.
    public enum Resolution: Sendable, Hashable {
        /// Mark delivered, with the JetStream stream sequence when there is one.
        case markDelivered(seq: Int64, streamSequence: UInt64?)
        /// Park: it can never be delivered as it is.
        case park(seq: Int64, failure: DeliveryFailure)
        /// Count the failed attempt; it is resent after the rewind.
        case recordFailure(seq: Int64, failure: DeliveryFailure)
    }

    /// The most messages in flight at once (`max_in_flight`).
    public let capacity: Int
    /// The highest sequence handed out for sending; the next fetch starts after it.
    public private(set) var cursor: Int64
    private var inFlight: [Int64] = []
    private var inFlightHead = 0
    /// The first unacknowledged message after a transient failure, and that failure.
    public private(set) var pendingRewind: (seq: Int64, failure: DeliveryFailure)?
    /// True after a fetch returned nothing; cleared by any resolution, a rewind or ``wake()``.
    public private(set) var caughtUp = false

    /// - Parameters:
    ///   - capacity: `max_in_flight`, at least 1.
    ///   - startAfter: the sequence after which pending messages are read (0 for the whole journal).
    public init(capacity: Int, startAfter: Int64 = 0) {
        precondition(capacity >= 1, "the delivery window needs room for at least one message")
        self.capacity = capacity
        self.cursor = startAfter
    }

    /// The free room from which the window is refilled while messages are still in flight.
    public var refillThreshold: Int { max(1, capacity / 4) }

    /// How many messages are in flight.
    public var inFlightCount: Int { inFlight.count - inFlightHead }

    /// Decides the next step.
    public mutating func nextStep() -> Step {
        if let rewind = pendingRewind {
            guard inFlightCount == 0 else { return .awaitAcknowledgement }
            pendingRewind = nil
            cursor = rewind.seq - 1
            caughtUp = false
            return .rewind(to: rewind.seq, failure: rewind.failure)
        }
        let room = capacity - inFlightCount
        // Refill in chunks (a quarter of the window) rather than one row per acknowledgement, so the
        // journal is read in pages; an empty window always refills.
        if room > 0 && !caughtUp && (inFlightCount == 0 || room >= refillThreshold) {
            return .fetch(afterSeq: cursor, limit: room)
        }
        return inFlightCount > 0 ? .awaitAcknowledgement : .idle
    }

    /// Reports the result of a fetch. An empty page means the journal is caught up.
    public mutating func fetched(count: Int) {
        if count == 0 { caughtUp = true }
    }

    /// New rows may have landed: fetch again at the next step.
    public mutating func wake() {
        caughtUp = false
    }

    /// Whether the worker may still send messages of the current page (no transient failure pending
    /// and room in the window).
    public var maySend: Bool {
        pendingRewind == nil && inFlightCount < capacity
    }

    /// Records that `seq` was handed to the transport.
    /// - Precondition: `seq` is above every sequence sent before (journal order).
    public mutating func sent(seq: Int64) {
        precondition(seq > cursor, "messages must be sent in journal order")
        cursor = seq
        inFlight.append(seq)
    }

    /// The transport refused `seq` before it went out. A poison failure parks it and skips it; a
    /// transient one stops sending and schedules a rewind to it.
    public mutating func sendFailed(seq: Int64, failure: DeliveryFailure) -> Resolution {
        if failure.isPoison {
            cursor = max(cursor, seq)
            return .park(seq: seq, failure: failure)
        }
        noteTransientFailure(seq: seq, failure: failure)
        return .recordFailure(seq: seq, failure: failure)
    }

    /// The oldest in-flight message was acknowledged by the server.
    public mutating func acknowledged(seq: Int64, streamSequence: UInt64?) -> Resolution {
        popOldest(expected: seq)
        caughtUp = false
        return .markDelivered(seq: seq, streamSequence: streamSequence)
    }

    /// The oldest in-flight message failed.
    public mutating func failed(seq: Int64, failure: DeliveryFailure) -> Resolution {
        popOldest(expected: seq)
        caughtUp = false
        if failure.isPoison {
            return .park(seq: seq, failure: failure)
        }
        noteTransientFailure(seq: seq, failure: failure)
        return .recordFailure(seq: seq, failure: failure)
    }

    /// Sequences sent and not yet resolved, in send order.
    public var inFlightSequences: [Int64] { Array(inFlight[inFlightHead...]) }

    /// The oldest in-flight sequence, if any.
    public var oldestInFlight: Int64? {
        inFlightCount > 0 ? inFlight[inFlightHead] : nil
    }

    /// Everything in flight is lost (e.g. the transport was torn down): rewind to the oldest of it.
    public mutating func abandonInFlight(failure: DeliveryFailure) {
        guard let oldest = oldestInFlight else { return }
        inFlight.removeAll(keepingCapacity: true)
        inFlightHead = 0
        noteTransientFailure(seq: oldest, failure: failure)
    }

    private mutating func noteTransientFailure(seq: Int64, failure: DeliveryFailure) {
        if let existing = pendingRewind, existing.seq <= seq { return }
        pendingRewind = (seq, failure)
    }

    private mutating func popOldest(expected seq: Int64) {
        precondition(oldestInFlight == seq, "acknowledgements must be reported in send order")
        inFlightHead += 1
        if inFlightHead == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            inFlightHead = 0
        } else if inFlightHead >= 1024 && inFlightHead * 2 >= inFlight.count {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
    }
}
