import NIOConcurrencyHelpers
import NIOCore

/// One publish of a JetStream batch, validated by the caller (subject, headers) with its wire size.
struct AckRequest {
    var subject: String
    var headers: NATSHeaders?
    var payload: ByteBuffer
    var size: Int
    var slot: AckSlot
}

/// The tokens of outstanding acknowledged publishes sharing one timeout, oldest first, so their deadlines are
/// in order: one timer for the front replaces a scheduled task per message.
struct AckDeadlineQueue {
    private var entries: [(token: String, deadline: NIODeadline)] = []
    private var head = 0

    var first: (token: String, deadline: NIODeadline)? {
        self.head < self.entries.count ? self.entries[self.head] : nil
    }

    mutating func append(token: String, deadline: NIODeadline) {
        self.entries.append((token, deadline))
    }

    mutating func removeFirst() {
        self.head += 1
        if self.head == self.entries.count {
            self.entries.removeAll(keepingCapacity: true)
            self.head = 0
        } else if self.head >= 1024, self.head * 2 >= self.entries.count {
            self.entries.removeFirst(self.head)
            self.head = 0
        }
    }
}

/// Acknowledged (JetStream) publishing: many publishes registered and encoded under one lock, replies completed
/// into ``AckSlot``s on the event loop, deadlines enforced by one sweeping timer.
extension NATSConnection {
    /// Registers and encodes `requests` in order under one lock and schedules one write for all of them.
    ///
    /// A request that cannot be sent (connection closed, reconnect buffer full, larger than the server's
    /// `max_payload`) has its slot completed with that error at once; the others are unaffected.
    func startAckRequests(_ requests: some Collection<AckRequest>, timeout: Duration) {
        guard !requests.isEmpty else { return }
        let deadline = NIODeadline.now() + timeout.timeAmount
        let (drainTarget, sweepAt, failures) = self.state.withLockedValue {
            state -> (ChannelRef?, NIODeadline?, [(AckSlot, any Error)]) in
            var failures: [(AckSlot, any Error)] = []
            if case .closed = state.phase {
                let closed = NATSError(.connectionClosed, "connection is closed")
                return (nil, nil, requests.map { ($0.slot, closed) })
            }
            var target: ChannelRef?
            do {
                target = try self.ensureInboxLocked(&state)
            } catch {
                return (nil, nil, requests.map { ($0.slot, error) })
            }
            var registered = false
            for request in requests {
                do {
                    try Self.checkSize(request.size, limit: state.serverInfo?.maxPayload)
                    let token = String(state.nextToken &+ 1, radix: 36)
                    let appended = try self.appendLocked(to: &state) { buffer in
                        NATSCommandEncoder.writePublish(
                            subject: request.subject, replyTo: self.inboxPrefix, replyToken: token,
                            headers: request.headers, payload: request.payload, into: &buffer)
                    }
                    if target == nil { target = appended.drainTarget }
                    state.nextToken &+= 1
                    state.pendingRequests[token] = PendingRequest(ack: request.slot, deadlineKey: timeout)
                    state.ackDeadlines[timeout, default: AckDeadlineQueue()].append(token: token, deadline: deadline)
                    registered = true
                } catch {
                    failures.append((request.slot, error))
                }
            }
            var sweepAt: NIODeadline?
            if registered, !state.ackSweepScheduled {
                state.ackSweepScheduled = true
                sweepAt = deadline
            }
            return (target, sweepAt, failures)
        }
        if let drainTarget {
            self.scheduleDrain(drainTarget)
        }
        if let sweepAt {
            self.scheduleAckSweep(at: sweepAt)
        }
        for (slot, error) in failures {
            slot.complete(.failure(error))
        }
    }

    /// Subscribes the shared reply inbox on first use (caller holds the lock); returns where to drain.
    func ensureInboxLocked(_ state: inout State) throws -> ChannelRef? {
        guard state.inboxSID == nil else { return nil }
        state.nextSID += 1
        state.inboxSID = state.nextSID
        return try self.appendLocked(
            .subscribe(subject: self.inboxPrefix + ".*", queue: nil, sid: state.nextSID), to: &state
        ).drainTarget
    }

    /// Drops the answered or removed tokens at the front of the deadline queue of `key` (caller holds the lock).
    static func dropAnsweredDeadlines(key: Duration, in state: inout State) {
        guard var queue = state.ackDeadlines.removeValue(forKey: key) else { return }
        while let first = queue.first, state.pendingRequests[first.token] == nil {
            queue.removeFirst()
        }
        if queue.first != nil {
            state.ackDeadlines[key] = queue
        }
    }

    private func scheduleAckSweep(at deadline: NIODeadline) {
        self.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            self?.sweepAckDeadlines()
        }
    }

    /// Fails every ack whose deadline has passed with ``NATSError/Code/timeout`` and re-arms the timer for the
    /// earliest deadline still outstanding.
    private func sweepAckDeadlines() {
        let now = NIODeadline.now()
        let (expired, next) = self.state.withLockedValue { state -> ([(PendingRequest, Duration)], NIODeadline?) in
            var expired: [(PendingRequest, Duration)] = []
            var next: NIODeadline?
            for key in Array(state.ackDeadlines.keys) {
                guard var queue = state.ackDeadlines.removeValue(forKey: key) else { continue }
                while let first = queue.first {
                    if let pending = state.pendingRequests[first.token] {
                        guard first.deadline <= now else { break }
                        state.pendingRequests.removeValue(forKey: first.token)
                        expired.append((pending, key))
                    }
                    queue.removeFirst()
                }
                if let first = queue.first {
                    state.ackDeadlines[key] = queue
                    next = next.map { min($0, first.deadline) } ?? first.deadline
                }
            }
            state.ackSweepScheduled = next != nil
            return (expired, next)
        }
        for (pending, timeout) in expired {
            pending.fail(NATSError(.timeout, "no JetStream acknowledgement within \(timeout)"))
        }
        if let next {
            self.scheduleAckSweep(at: next)
        }
    }
}
