import NIOConcurrencyHelpers
import NIOCore

/// The outcome of one pipelined publish; await ``result()`` in publish order to get acks in publish order.
///
/// The outcome is stored in a slot the connection completes on its event loop. Reading an outcome that has
/// already arrived does not suspend, so awaiting acks in order costs no thread hand-off per message; use
/// ``results(_:)`` to await a whole batch with (normally) one suspension.
public struct PendingAck: Sendable {
    /// The `Nats-Msg-Id` sent with the message, if any.
    public let messageID: String?
    /// The subject published to.
    public let subject: String
    let slot: AckSlot

    /// The server's acknowledgement, or the error for exactly this message: ``JetStreamAPIError``,
    /// ``NATSError`` with code `timeout`, `connectionLost`, `noResponders`, `connectionClosed` or
    /// `reconnectBufferFull`. Throws `CancellationError` when the waiting task is cancelled (the publish stays
    /// outstanding; its outcome can still be read later).
    public func result() async throws -> PubAck {
        try await self.slot.value()
    }

    /// The outcome if it has arrived, without waiting.
    public var outcome: Result<PubAck, any Error>? {
        self.slot.outcome
    }

    /// Waits for every ack of `acks` and returns their outcomes in the same order.
    ///
    /// Suspends on the last ack first (acks arrive in publish order, so the others are then normally done) and
    /// only suspends again for one that is still outstanding. Never throws: a failure belongs to its message.
    /// When the waiting task is cancelled, acks that have not arrived yet are reported as `CancellationError`.
    public static func results(_ acks: some BidirectionalCollection<PendingAck>) async -> [Result<PubAck, any Error>] {
        guard let last = acks.last else { return [] }
        if last.slot.outcome == nil {
            _ = try? await last.slot.value()
        }
        var results: [Result<PubAck, any Error>] = []
        results.reserveCapacity(acks.count)
        for ack in acks {
            if let outcome = ack.slot.outcome {
                results.append(outcome)
                continue
            }
            do {
                results.append(.success(try await ack.slot.value()))
            } catch {
                results.append(.failure(error))
            }
        }
        return results
    }
}

extension BidirectionalCollection where Element == PendingAck {
    /// Waits for every ack and returns the outcomes in order; see ``PendingAck/results(_:)``.
    public func awaitAll() async -> [Result<PubAck, any Error>] {
        await PendingAck.results(self)
    }
}

/// Where one JetStream publish's outcome lands: completed once (ack, error, timeout, connection loss) by the
/// connection, read by ``PendingAck``. Completing returns the message's permit to its publish window.
final class AckSlot: Sendable {
    private struct State {
        var result: Result<PubAck, any Error>?
        var waiters: [(id: UInt64, continuation: UnsafeContinuation<PubAck, any Error>)] = []
        var nextWaiterID: UInt64 = 0
        /// Waiters cancelled before they registered their continuation.
        var cancelled: Set<UInt64> = []
    }

    private let state: NIOLockedValueBox<State>
    private let window: PublishWindow?

    init(window: PublishWindow?) {
        self.state = NIOLockedValueBox(State())
        self.window = window
    }

    /// A slot that already holds `error` (a message that could not be sent); it holds no permit.
    init(failed error: any Error) {
        self.state = NIOLockedValueBox(State(result: .failure(error)))
        self.window = nil
    }

    /// The outcome if it has arrived.
    var outcome: Result<PubAck, any Error>? {
        self.state.withLockedValue { $0.result }
    }

    /// How many tasks are suspended waiting for the outcome (lets a test act once a waiter is parked).
    var suspendedWaiters: Int {
        self.state.withLockedValue { $0.waiters.count }
    }

    /// Records the outcome (the first one wins), returns the permit and resumes any waiter.
    func complete(_ result: Result<PubAck, any Error>) {
        let waiters: [(id: UInt64, continuation: UnsafeContinuation<PubAck, any Error>)]? = self.state
            .withLockedValue { state in
                guard state.result == nil else { return nil }
                state.result = result
                defer {
                    state.waiters = []
                    state.cancelled = []
                }
                return state.waiters
            }
        guard let waiters else { return }
        self.window?.release()
        for waiter in waiters {
            waiter.continuation.resume(with: result)
        }
    }

    /// Decodes `message` as a publish reply and completes with it.
    func complete(reply message: NATSMessage) {
        if message.status?.code == NATSStatus.noRespondersCode {
            self.complete(.failure(NATSError(.noResponders, "no JetStream stream captures the subject")))
            return
        }
        self.complete(Result { try JetStreamContext.decodePubAck(from: message) })
    }

    /// The outcome, suspending until it arrives; throws `CancellationError` when the waiting task is cancelled
    /// (the publish itself stays outstanding and its outcome can still be read).
    func value() async throws -> PubAck {
        let (done, id): (Result<PubAck, any Error>?, UInt64) = self.state.withLockedValue { state in
            if let result = state.result { return (result, 0) }
            state.nextWaiterID += 1
            return (nil, state.nextWaiterID)
        }
        if let done {
            return try done.get()
        }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<PubAck, any Error>) in
                let immediate: Result<PubAck, any Error>? = self.state.withLockedValue { state in
                    if let result = state.result { return result }
                    if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let immediate {
                    continuation.resume(with: immediate)
                }
            }
        } onCancel: {
            let waiter: UnsafeContinuation<PubAck, any Error>? = self.state.withLockedValue { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                if state.result == nil {
                    state.cancelled.insert(id)
                }
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
