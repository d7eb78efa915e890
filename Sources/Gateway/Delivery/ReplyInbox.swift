import NATSClient
import Synchronization

/// Matches replies on one wildcard inbox subscription to the messages that asked for them.
///
/// The delivery transport publishes each message itself, in order, with a reply subject
/// `{inbox}.{token}` (so publish order is journal order, which separate `request` calls in separate
/// tasks would not guarantee), and waits here for the reply with a deadline.
final class ReplyInbox: Sendable {
    private enum Slot {
        case waiting(CheckedContinuation<NATSMessage, any Error>?)
        case done(Result<NATSMessage, any Error>)
    }

    private struct State {
        var nextToken: UInt64 = 0
        var slots: [UInt64: Slot] = [:]
    }

    /// The subject prefix; replies arrive on `{prefix}.{token}`.
    let prefix: String
    private let state = Mutex(State())

    init(prefix: String) {
        self.prefix = prefix
    }

    /// Registers a new expected reply; returns its token and the reply subject.
    func register() -> (token: UInt64, replySubject: String) {
        let token = state.withLock { state -> UInt64 in
            state.nextToken += 1
            state.slots[state.nextToken] = .waiting(nil)
            return state.nextToken
        }
        return (token, prefix + "." + String(token))
    }

    /// Delivers a reply that arrived on the inbox subscription.
    func deliver(_ message: NATSMessage) {
        guard let last = message.subject.split(separator: ".").last, let token = UInt64(last) else { return }
        resolve(token, .success(message))
    }

    /// Fails one expected reply (timeout, publish failure).
    func fail(_ token: UInt64, _ error: any Error) {
        resolve(token, .failure(error))
    }

    /// Fails every expected reply (connection lost: the replies will never come).
    func failAll(_ error: any Error) {
        let waiters = state.withLock { state -> [CheckedContinuation<NATSMessage, any Error>] in
            var waiters: [CheckedContinuation<NATSMessage, any Error>] = []
            for (token, slot) in state.slots {
                switch slot {
                case .waiting(let continuation):
                    if let continuation {
                        waiters.append(continuation)
                        state.slots[token] = nil
                    } else {
                        state.slots[token] = .done(.failure(error))
                    }
                case .done:
                    break
                }
            }
            return waiters
        }
        for waiter in waiters { waiter.resume(throwing: error) }
    }

    /// The outcome for `token` if it has arrived (removing it), without waiting; `nil` while it has not.
    func take(_ token: UInt64) -> Result<NATSMessage, any Error>? {
        state.withLock { state in
            guard case .done(let result) = state.slots[token] else { return nil }
            state.slots[token] = nil
            return result
        }
    }

    /// Waits for the reply to `token`, failing with `timeoutError` after `timeout`.
    func wait(_ token: UInt64, timeout: Duration, timeoutError: @autoclosure @escaping @Sendable () -> any Error)
        async throws -> NATSMessage
    {
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.fail(token, timeoutError())
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<NATSMessage, any Error>) in
                let ready = state.withLock { state -> Result<NATSMessage, any Error>? in
                    switch state.slots[token] {
                    case .done(let result):
                        state.slots[token] = nil
                        return result
                    case .waiting:
                        state.slots[token] = .waiting(continuation)
                        return nil
                    case nil:
                        return .failure(DeliveryFailure(code: .other, message: "reply token \(token) is unknown"))
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            self.fail(token, CancellationError())
        }
    }

    private func resolve(_ token: UInt64, _ result: Result<NATSMessage, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<NATSMessage, any Error>? in
            switch state.slots[token] {
            case .waiting(let continuation?):
                state.slots[token] = nil
                return continuation
            case .waiting(nil):
                state.slots[token] = .done(result)
                return nil
            case .done, nil:
                return nil
            }
        }
        waiter?.resume(with: result)
    }
}
