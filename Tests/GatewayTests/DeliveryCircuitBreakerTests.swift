import Testing

@testable import Gateway

/// A manual clock's instant for the breaker: time moves only when a test says so.
struct TestInstant: InstantProtocol {
    var offset: Duration

    static let zero = TestInstant(offset: .zero)

    func advanced(by duration: Duration) -> TestInstant { TestInstant(offset: offset + duration) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (lhs: TestInstant, rhs: TestInstant) -> Bool { lhs.offset < rhs.offset }
}

struct DeliveryCircuitBreakerTests {
    typealias Breaker = CircuitBreaker<TestInstant>

    @Test func staysClosedBelowTheThreshold() {
        var breaker = Breaker(failureThreshold: 3, cooldown: .seconds(10))
        #expect(breaker.recordFailure(now: .zero) == nil)
        #expect(breaker.recordFailure(now: .zero) == nil)
        #expect(breaker.state == .closed)
        #expect(breaker.permit(now: .zero) == .allowed(probe: false, transition: nil))
    }

    @Test func opensAfterConsecutiveFailures() {
        var breaker = Breaker(failureThreshold: 3, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        _ = breaker.recordFailure(now: .zero)
        #expect(breaker.recordFailure(now: .zero) == BreakerTransition(from: .closed, to: .open))
        #expect(breaker.state == .open)
    }

    @Test func successResetsTheConsecutiveCount() {
        var breaker = Breaker(failureThreshold: 2, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        #expect(breaker.recordSuccess() == nil)
        #expect(breaker.recordFailure(now: .zero) == nil)
        #expect(breaker.state == .closed)
    }

    @Test func refusesUntilTheCooldownHasPassed() {
        var breaker = Breaker(failureThreshold: 1, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        let later = TestInstant.zero.advanced(by: .seconds(4))
        #expect(breaker.permit(now: later) == .refused(until: TestInstant.zero.advanced(by: .seconds(10))))
        #expect(breaker.state == .open)
    }

    @Test func allowsExactlyOneProbeWhenHalfOpen() {
        var breaker = Breaker(failureThreshold: 1, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        let afterCooldown = TestInstant.zero.advanced(by: .seconds(10))
        #expect(
            breaker.permit(now: afterCooldown)
                == .allowed(probe: true, transition: BreakerTransition(from: .open, to: .halfOpen)))
        #expect(breaker.state == .halfOpen)
        guard case .refused = breaker.permit(now: afterCooldown) else {
            Issue.record("a second attempt during the probe must be refused")
            return
        }
    }

    @Test func successfulProbeCloses() {
        var breaker = Breaker(failureThreshold: 1, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        _ = breaker.permit(now: TestInstant.zero.advanced(by: .seconds(11)))
        #expect(breaker.recordSuccess() == BreakerTransition(from: .halfOpen, to: .closed))
        #expect(breaker.state == .closed)
        #expect(breaker.consecutiveFailures == 0)
        #expect(
            breaker.permit(now: TestInstant.zero.advanced(by: .seconds(11))) == .allowed(probe: false, transition: nil))
    }

    @Test func failedProbeReopensWithAFreshCooldown() {
        var breaker = Breaker(failureThreshold: 1, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        let probeTime = TestInstant.zero.advanced(by: .seconds(12))
        _ = breaker.permit(now: probeTime)
        #expect(breaker.recordFailure(now: probeTime) == BreakerTransition(from: .halfOpen, to: .open))
        #expect(
            breaker.permit(now: TestInstant.zero.advanced(by: .seconds(21)))
                == .refused(until: probeTime.advanced(by: .seconds(10))))
        guard case .allowed(probe: true, _) = breaker.permit(now: probeTime.advanced(by: .seconds(10))) else {
            Issue.record("after the second cool-down a new probe must be allowed")
            return
        }
    }

    @Test func failuresWhileOpenExtendTheCooldown() {
        var breaker = Breaker(failureThreshold: 1, cooldown: .seconds(10))
        _ = breaker.recordFailure(now: .zero)
        let five = TestInstant.zero.advanced(by: .seconds(5))
        #expect(breaker.recordFailure(now: five) == nil)
        #expect(
            breaker.permit(now: TestInstant.zero.advanced(by: .seconds(11)))
                == .refused(until: five.advanced(by: .seconds(10))))
    }

    @Test func metricValuesFollowTheGaugeConvention() {
        #expect(BreakerState.closed.metricValue == 0)
        #expect(BreakerState.halfOpen.metricValue == 1)
        #expect(BreakerState.open.metricValue == 2)
        #expect(BreakerState.halfOpen.description == "half_open")
    }

    @Test func worksWithTheContinuousClock() {
        var breaker = CircuitBreaker<ContinuousClock.Instant>(failureThreshold: 1, cooldown: .zero)
        let now = ContinuousClock.now
        _ = breaker.recordFailure(now: now)
        guard case .allowed(probe: true, _) = breaker.permit(now: now) else {
            Issue.record("a zero cool-down allows the probe at once")
            return
        }
    }
}
