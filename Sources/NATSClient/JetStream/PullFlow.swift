/// How a continuous pull consumer keeps requests outstanding: the bookkeeping of
/// ``PullConsumerMessages`` without I/O or clocks of its own (the caller passes `now`).
///
/// Requests ask for up to `batch` messages and expire at the server after `expires`, which answers
/// `408`; while a request waits with nothing to deliver the server sends a heartbeat every `heartbeat`.
/// A new request goes out whenever at most half a batch is still asked for, so messages keep flowing
/// while the application works. Deliveries are counted against the oldest request (the server serves
/// waiting requests in order). When nothing — no message, no heartbeat — arrived for two heartbeat
/// intervals the requests are taken as lost (a server restart, a dropped connection) and asked again;
/// after a reconnect they are asked again at once.
public struct PullFlow: Sendable, Hashable {
    /// Batch size, expiry and heartbeat of the requests.
    public struct Settings: Sendable, Hashable {
        public var batch: Int
        public var expires: Duration
        public var heartbeat: Duration
        /// Never ask for more than this many messages in all (an application that stops after N messages
        /// leaves none delivered and unacknowledged behind); `nil` for no limit.
        public var maxMessages: Int?

        /// `heartbeat` must be well below `expires` (the server refuses a heartbeat above half of it).
        public init(
            batch: Int = 256, expires: Duration = .seconds(30), heartbeat: Duration = .seconds(5),
            maxMessages: Int? = nil
        ) {
            self.batch = max(1, batch)
            self.expires = expires
            self.heartbeat = min(heartbeat, expires / 2)
            self.maxMessages = maxMessages
        }
    }

    /// One request the server has (or should have).
    public struct Pull: Sendable, Hashable {
        public var id: UInt64
        public var remaining: Int
        public var deadline: ContinuousClock.Instant
    }

    /// What to do.
    public enum Action: Sendable, Hashable {
        case none
        /// Send a request for `batch` messages whose replies go to the inbox token `id`.
        case pull(id: UInt64, batch: Int)
    }

    /// What a tick found.
    public enum TickOutcome: Sendable, Hashable {
        case quiet(Action)
        /// Nothing arrived for two heartbeat intervals: the requests were dropped and asked again.
        case stalled(Action)
    }

    public let settings: Settings
    public private(set) var pulls: [Pull] = []
    private var nextID: UInt64 = 0
    private var delivered = 0
    private var lastActivity: ContinuousClock.Instant
    private var pausedUntil: ContinuousClock.Instant?

    public init(settings: Settings, now: ContinuousClock.Instant) {
        self.settings = settings
        self.lastActivity = now
    }

    /// Messages asked for and not delivered yet.
    public var outstanding: Int {
        self.pulls.reduce(0) { $0 + $1.remaining }
    }

    /// Asks for more when at most half a batch is outstanding (and requests are not paused).
    public mutating func refill(now: ContinuousClock.Instant) -> Action {
        if let pausedUntil {
            guard now >= pausedUntil else { return .none }
            self.pausedUntil = nil
        }
        let outstanding = self.outstanding
        guard outstanding <= self.settings.batch / 2 else { return .none }
        var batch = self.settings.batch - outstanding
        if let limit = self.settings.maxMessages {
            batch = min(batch, limit - self.delivered - outstanding)
            guard batch > 0 else { return .none }
        }
        self.nextID += 1
        if self.pulls.isEmpty { self.lastActivity = now }
        self.pulls.append(
            Pull(id: self.nextID, remaining: batch, deadline: now + self.settings.expires + self.settings.heartbeat))
        return .pull(id: self.nextID, batch: batch)
    }

    /// A message was delivered.
    public mutating func received(now: ContinuousClock.Instant) -> Action {
        self.lastActivity = now
        self.delivered += 1
        if !self.pulls.isEmpty {
            self.pulls[0].remaining -= 1
            if self.pulls[0].remaining <= 0 { self.pulls.removeFirst() }
        }
        return self.refill(now: now)
    }

    /// A heartbeat arrived: the server still holds a request.
    public mutating func heartbeat(now: ContinuousClock.Instant) {
        self.lastActivity = now
    }

    /// The server ended request `id` (expired, or ended it for another reason).
    public mutating func ended(id: UInt64, now: ContinuousClock.Instant) -> Action {
        self.lastActivity = now
        self.pulls.removeAll { $0.id == id }
        return self.refill(now: now)
    }

    /// Time passed: drops requests past their expiry that the server did not end, and asks again when
    /// requests were outstanding but nothing arrived for two heartbeat intervals.
    public mutating func tick(now: ContinuousClock.Instant) -> TickOutcome {
        self.pulls.removeAll { $0.deadline <= now }
        if !self.pulls.isEmpty, now - self.lastActivity > self.settings.heartbeat * 2 {
            self.pulls.removeAll()
            return .stalled(self.refill(now: now))
        }
        return .quiet(self.refill(now: now))
    }

    /// The connection was re-established: requests sent before are gone with the old connection.
    public mutating func reconnected(now: ContinuousClock.Instant) -> Action {
        self.pulls.removeAll()
        self.pausedUntil = nil
        return self.refill(now: now)
    }

    /// Nobody answered a request (`503`): forget the requests and ask again after one heartbeat interval.
    public mutating func unavailable(now: ContinuousClock.Instant) {
        self.pulls.removeAll()
        self.pausedUntil = now + self.settings.heartbeat
    }
}
