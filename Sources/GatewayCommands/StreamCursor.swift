/// Where `subscribe --stream` is in a JetStream stream, and how long it pauses while following a quiet
/// one: the reading and following logic without I/O.
///
/// Messages are read one sequence at a time up to the last sequence the stream reported. Once caught up,
/// a follower pauses, looks at the stream's state again and reads on; pauses start short and double up to
/// `longestPause` while nothing new is stored, so a quiet stream costs one small request per
/// `longestPause` and a busy one is read without pauses.
struct StreamCursor: Sendable, Hashable {
    /// What to do next.
    enum Step: Sendable, Hashable {
        /// Read the message at this sequence.
        case read(UInt64)
        /// Everything the stream reported is read.
        case caughtUp
    }

    /// What a look at the stream's state found besides new messages.
    enum Change: Sendable, Hashable {
        case none
        /// Messages not read yet were removed (limits, purge) before they could be read: this many.
        case skipped(UInt64)
        /// The stream's last sequence is below what was already read: it was deleted and re-created (or
        /// reset). Reading starts again at its first message.
        case restarted
    }

    /// The next sequence to read.
    private(set) var next: UInt64
    /// The last sequence the stream reported.
    private(set) var last: UInt64
    /// The pause before the next look at the stream, once caught up.
    private(set) var pause: Duration
    let shortestPause: Duration
    let longestPause: Duration

    /// A cursor at `fromSequence` (default: the stream's first message) of a stream whose state is
    /// `firstSequence...lastSequence`.
    init(firstSequence: UInt64, lastSequence: UInt64, fromSequence: UInt64?, longestPause: Duration) {
        self.next = max(fromSequence ?? 1, firstSequence, 1)
        self.last = lastSequence
        self.longestPause = longestPause
        self.shortestPause = min(longestPause, .milliseconds(50))
        self.pause = self.shortestPause
    }

    var step: Step {
        self.next <= self.last ? .read(self.next) : .caughtUp
    }

    /// The message at ``next`` was read, or found deleted.
    mutating func advance() {
        self.next += 1
    }

    /// The stream's state after a pause.
    mutating func refreshed(firstSequence: UInt64, lastSequence: UInt64) -> Change {
        var change = Change.none
        if lastSequence + 1 < self.next {
            self.next = max(firstSequence, 1)
            change = .restarted
        } else if firstSequence > self.next {
            change = .skipped(firstSequence - self.next)
            self.next = firstSequence
        }
        self.last = lastSequence
        self.pause = self.next <= self.last ? self.shortestPause : min(self.pause * 2, self.longestPause)
        return change
    }

    /// Talking to the stream failed: wait the longest pause before trying again.
    mutating func failed() {
        self.pause = self.longestPause
    }
}
