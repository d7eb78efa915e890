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

/// The outstanding acknowledged publishes of a connection, in publish order.
///
/// Their reply subjects end in `J<token>` (decimal, distinct from request tokens, which are lowercase base 36),
/// tokens are handed out in increasing order, so an entry is found by its offset from the oldest one: no hashing
/// and no string per message. Deadlines are checked by one timer sweeping the table (see
/// ``NATSConnection/sweepAckDeadlines()``), not a scheduled task per message.
struct AckTable {
    struct Entry {
        var slot: AckSlot
        var deadline: NIODeadline
        var timeout: Duration
    }

    /// The token of `entries[head]`.
    private var base: UInt64 = 1
    private var entries: [Entry?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { self.count == 0 }

    /// The token the next ``append(_:)`` returns.
    var nextToken: UInt64 { self.base + UInt64(self.entries.count - self.head) }

    mutating func append(_ entry: Entry) -> UInt64 {
        let token = self.nextToken
        self.entries.append(entry)
        self.count += 1
        return token
    }

    /// Removes and returns the slot of `token`, if still outstanding.
    mutating func remove(token: UInt64) -> AckSlot? {
        guard token >= self.base, token - self.base < UInt64(self.entries.count - self.head) else { return nil }
        let index = self.head + Int(token - self.base)
        guard let entry = self.entries[index] else { return nil }
        self.entries[index] = nil
        self.count -= 1
        self.compactFront()
        return entry.slot
    }

    /// Removes the entries whose deadline is at or before `now`; returns them and the earliest deadline left.
    mutating func removeExpired(now: NIODeadline) -> (expired: [Entry], next: NIODeadline?) {
        var expired: [Entry] = []
        var next: NIODeadline?
        for index in self.head..<self.entries.count {
            guard let entry = self.entries[index] else { continue }
            if entry.deadline <= now {
                expired.append(entry)
                self.entries[index] = nil
                self.count -= 1
            } else {
                next = next.map { min($0, entry.deadline) } ?? entry.deadline
            }
        }
        self.compactFront()
        return (expired, next)
    }

    /// Removes every entry; returns their slots in publish order. Tokens are not reused.
    mutating func removeAll() -> [AckSlot] {
        let slots = self.entries[self.head...].compactMap { $0?.slot }
        self.base = self.nextToken
        self.entries.removeAll(keepingCapacity: true)
        self.head = 0
        self.count = 0
        return slots
    }

    private mutating func compactFront() {
        while self.head < self.entries.count, self.entries[self.head] == nil {
            self.head += 1
            self.base += 1
        }
        if self.head == self.entries.count {
            self.entries.removeAll(keepingCapacity: true)
            self.head = 0
        } else if self.head >= 1024, self.head * 2 >= self.entries.count {
            self.entries.removeFirst(self.head)
            self.head = 0
        }
    }

    /// The ack token of a reply subject's last segment (`J` and decimal digits), or `nil` for other tokens.
    static func token(in segment: Substring.UTF8View) -> UInt64? {
        guard segment.first == UInt8(ascii: "J"), segment.count > 1, segment.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in segment.dropFirst() {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowSum) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflowTimes, !overflowSum else { return nil }
            value = sum
        }
        return value
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
                    let token = state.acks.nextToken
                    let appended = try self.appendLocked(to: &state) { buffer in
                        NATSCommandEncoder.writePublish(
                            subject: request.subject, replyTo: self.inboxPrefix, replyAckToken: token,
                            headers: request.headers, payload: request.payload, into: &buffer)
                    }
                    if target == nil { target = appended.drainTarget }
                    _ = state.acks.append(AckTable.Entry(slot: request.slot, deadline: deadline, timeout: timeout))
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

    private func scheduleAckSweep(at deadline: NIODeadline) {
        self.eventLoop.scheduleTask(deadline: deadline) { [weak self] in
            self?.sweepAckDeadlines()
        }
    }

    /// Fails every ack whose deadline has passed with ``NATSError/Code/timeout`` and re-arms the timer for the
    /// earliest deadline still outstanding.
    private func sweepAckDeadlines() {
        let (expired, next) = self.state.withLockedValue { state in
            let swept = state.acks.removeExpired(now: .now())
            state.ackSweepScheduled = swept.next != nil
            return swept
        }
        for entry in expired {
            entry.slot.complete(.failure(NATSError(.timeout, "no JetStream acknowledgement within \(entry.timeout)")))
        }
        if let next {
            self.scheduleAckSweep(at: next)
        }
    }
}
