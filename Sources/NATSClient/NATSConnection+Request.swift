import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Request/reply over one muxed wildcard inbox subscription (`_INBOX.<random>.*`).
extension NATSConnection {
    // MARK: Request / reply

    /// Sends a request and waits for the first reply, over one shared inbox subscription.
    ///
    /// Throws ``NATSError/Code/noResponders`` as soon as the server reports that nobody listens,
    /// ``NATSError/Code/timeout`` after `timeout`, ``NATSError/Code/connectionLost`` if the connection drops, and
    /// `CancellationError` right away when the calling task is cancelled.
    public func request(
        subject: String,
        headers: NATSHeaders? = nil,
        payload: ByteBuffer = ByteBuffer(),
        timeout: Duration? = nil
    ) async throws -> NATSMessage {
        let started = try self.startRequest(
            subject: subject, headers: headers, payload: payload, timeout: timeout ?? self.options.requestTimeout)
        return try await withTaskCancellationHandler {
            try await started.future.get()
        } onCancel: {
            self.cancelRequest(token: started.token)
        }
    }

    func cancelRequest(token: String) {
        let pending = self.state.withLockedValue { $0.pendingRequests.removeValue(forKey: token) }
        pending?.fail(CancellationError())
    }

    /// Starts a request; the future completes with the reply or a typed error. Used for pipelining.
    ///
    /// Registers the reply token and encodes the publish under one lock, so concurrent callers' requests go
    /// out in the order their tokens were taken.
    func startRequest(
        subject: String,
        headers: NATSHeaders?,
        payload: ByteBuffer,
        timeout: Duration
    ) throws -> (future: EventLoopFuture<NATSMessage>, token: String) {
        try Self.validateSubject(subject)
        try Self.validateHeaders(headers)
        let size = NATSCommandEncoder.payloadSize(headers: headers, payload: payload)
        let promise = self.eventLoop.makePromise(of: NATSMessage.self)
        let token: String
        let drainTarget: ChannelRef?
        do {
            (token, drainTarget) = try self.state.withLockedValue { state in
                if case .closed = state.phase {
                    throw NATSError(.connectionClosed, "connection is closed")
                }
                try Self.checkSize(size, limit: state.serverInfo?.maxPayload)
                let target = try self.ensureInboxLocked(&state)
                let token = String(state.nextToken &+ 1, radix: 36)
                let appended = try self.appendLocked(
                    .publish(
                        subject: subject, replyTo: self.inboxPrefix + "." + token, headers: headers, payload: payload),
                    to: &state)
                state.nextToken &+= 1
                state.pendingRequests[token] = PendingRequest(promise: promise, timeout: nil)
                return (token, target ?? appended.drainTarget)
            }
        } catch {
            promise.fail(error)
            throw error
        }
        if let drainTarget {
            self.scheduleDrain(drainTarget)
        }
        let scheduled = self.eventLoop.scheduleTask(in: timeout.timeAmount) { [weak self] in
            guard let self else { return }
            let pending = self.state.withLockedValue { $0.pendingRequests.removeValue(forKey: token) }
            pending?.fail(NATSError(.timeout, "no reply on '\(subject)' within \(timeout)"))
        }
        self.state.withLockedValue { $0.pendingRequests[token]?.timeout = scheduled }
        return (promise.futureResult, token)
    }
}
