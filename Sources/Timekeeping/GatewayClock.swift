#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the gateway's loops read time: a monotonic clock for intervals, deadlines and timeouts,
/// and the wall clock for the timestamps it stores and sends. Handed in at every seam where time
/// decides behaviour (``SystemClock`` in production, ``ManualClock`` in tests), so a test can move
/// time instead of sleeping through it.
public protocol GatewayClock: Sendable {
    /// Monotonic now: never jumps, unaffected by wall-clock changes.
    var now: ContinuousClock.Instant { get }
    /// Wall-clock now, in Unix epoch milliseconds.
    var epochMilliseconds: Int64 { get }
    /// Suspends until `now` reaches `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension GatewayClock {
    /// Suspends for `duration` of this clock's time.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now.advanced(by: duration))
    }

    /// Wall-clock now, in Unix epoch seconds with a fraction (what `Date().timeIntervalSince1970` gives).
    public var epochSeconds: Double { Double(epochMilliseconds) / 1000 }
}

/// The machine's clocks: `ContinuousClock` and `CLOCK_REALTIME`.
public struct SystemClock: GatewayClock {
    public init() {}

    public var now: ContinuousClock.Instant { ContinuousClock.now }

    public var epochMilliseconds: Int64 { Self.epochMilliseconds() }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await ContinuousClock().sleep(until: deadline)
    }

    /// The one read of wall time in epoch milliseconds (rounded down).
    public static func epochMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
    }
}
