import Testing

@testable import Gateway

/// A deterministic generator (SplitMix64) so jitter tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct DeliveryBackoffTests {
    @Test func ceilingDoublesFromBaseUntilTheCap() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(30))
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 4) == .milliseconds(1600))
        #expect(backoff.ceiling(attempt: 8) == .milliseconds(25_600))
        #expect(backoff.ceiling(attempt: 9) == .seconds(30))
        #expect(backoff.ceiling(attempt: 10_000) == .seconds(30))
        #expect(backoff.ceiling(attempt: Int.max) == .seconds(30))
    }

    @Test func negativeAttemptsUseTheBase() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(30))
        #expect(backoff.ceiling(attempt: -3) == .milliseconds(100))
    }

    @Test func hugeCapDoesNotOverflow() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(Int64.max / 2))
        let ceiling = backoff.ceiling(attempt: 200)
        #expect(ceiling > .seconds(1_000_000_000))
    }

    @Test func delaysStayWithinZeroAndTheCeiling() {
        let backoff = Backoff(base: .milliseconds(50), cap: .seconds(2))
        var generator = SeededGenerator(state: 42)
        for attempt in 0..<20 {
            let ceiling = backoff.ceiling(attempt: attempt)
            for _ in 0..<200 {
                let delay = backoff.delay(attempt: attempt, using: &generator)
                #expect(delay >= .zero)
                #expect(delay <= ceiling)
            }
        }
    }

    @Test func jitterSpansTheWholeRange() {
        let backoff = Backoff(base: .seconds(1), cap: .seconds(1))
        var generator = SeededGenerator(state: 7)
        let delays = (0..<2000).map { _ in backoff.delay(attempt: 0, using: &generator) }
        #expect(delays.contains { $0 < .milliseconds(100) })
        #expect(delays.contains { $0 > .milliseconds(900) })
    }

    @Test func sameSeedGivesSameDelays() {
        let backoff = Backoff(base: .milliseconds(10), cap: .seconds(5))
        var first = SeededGenerator(state: 99)
        var second = SeededGenerator(state: 99)
        let a = (0..<10).map { backoff.delay(attempt: $0, using: &first) }
        let b = (0..<10).map { backoff.delay(attempt: $0, using: &second) }
        #expect(a == b)
    }

    @Test func zeroBaseNeverWaits() {
        let backoff = Backoff(base: .zero, cap: .seconds(5))
        var generator = SeededGenerator(state: 1)
        #expect(backoff.delay(attempt: 5, using: &generator) == .zero)
    }
}
