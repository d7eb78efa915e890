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
    /// `reconnectBufferFull`.
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
    private enum State {
        case waiting([UnsafeContinuation<PubAck, any Error>])
        case done(Result<PubAck, any Error>)
    }

    private let state: NIOLockedValueBox<State>
    private let window: PublishWindow?

    init(window: PublishWindow?) {
        self.state = NIOLockedValueBox(.waiting([]))
        self.window = window
    }

    /// A slot that already holds `error` (a message that could not be sent); it holds no permit.
    init(failed error: any Error) {
        self.state = NIOLockedValueBox(.done(.failure(error)))
        self.window = nil
    }

    /// The outcome if it has arrived.
    var outcome: Result<PubAck, any Error>? {
        self.state.withLockedValue { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    /// Records the outcome (the first one wins), returns the permit and resumes any waiter.
    func complete(_ result: Result<PubAck, any Error>) {
        let waiters: [UnsafeContinuation<PubAck, any Error>]? = self.state.withLockedValue { state in
            guard case .waiting(let waiters) = state else { return nil }
            state = .done(result)
            return waiters
        }
        guard let waiters else { return }
        self.window?.release()
        for waiter in waiters {
            waiter.resume(with: result)
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

    /// The outcome, suspending until it arrives.
    func value() async throws -> PubAck {
        if let outcome = self.outcome {
            return try outcome.get()
        }
        return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<PubAck, any Error>) in
            let done: Result<PubAck, any Error>? = self.state.withLockedValue { state in
                switch state {
                case .done(let result):
                    return result
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                }
            }
            if let done {
                continuation.resume(with: done)
            }
        }
    }
}
