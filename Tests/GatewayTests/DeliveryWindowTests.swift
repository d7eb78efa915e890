import Testing

@testable import Gateway

struct DeliveryWindowTests {
    let timeout = DeliveryFailure(code: .timeout, message: "no ack")
    let tooLarge = DeliveryFailure(code: .payloadTooLarge, message: "over max_payload")

    @Test func startsByFetchingAfterTheStartSequence() {
        var window = DeliveryWindow(capacity: 4, startAfter: 10)
        #expect(window.nextStep() == .fetch(afterSeq: 10, limit: 4))
    }

    @Test func emptyFetchMeansIdleUntilWoken() {
        var window = DeliveryWindow(capacity: 4)
        window.fetched(count: 0)
        #expect(window.nextStep() == .idle)
        window.wake()
        #expect(window.nextStep() == .fetch(afterSeq: 0, limit: 4))
    }

    @Test func fullWindowWaitsForAcknowledgements() {
        var window = DeliveryWindow(capacity: 3)
        window.fetched(count: 3)
        for seq in Int64(1)...3 { window.sent(seq: seq) }
        #expect(!window.maySend)
        #expect(window.nextStep() == .awaitAcknowledgement)
        #expect(window.inFlightSequences == [1, 2, 3])
    }

    @Test func acknowledgementMarksDeliveredAndAdvances() {
        var window = DeliveryWindow(capacity: 2)
        window.sent(seq: 5)
        window.sent(seq: 6)
        #expect(window.acknowledged(seq: 5, streamSequence: 100) == .markDelivered(seq: 5, streamSequence: 100))
        #expect(window.acknowledged(seq: 6, streamSequence: nil) == .markDelivered(seq: 6, streamSequence: nil))
        #expect(window.inFlightCount == 0)
        #expect(window.nextStep() == .fetch(afterSeq: 6, limit: 2))
    }

    @Test func refillsOnlyWhenAQuarterOfTheWindowIsFree() {
        var window = DeliveryWindow(capacity: 8)
        for seq in Int64(1)...8 { window.sent(seq: seq) }
        _ = window.acknowledged(seq: 1, streamSequence: 1)
        #expect(window.nextStep() == .awaitAcknowledgement)
        _ = window.acknowledged(seq: 2, streamSequence: 2)
        #expect(window.nextStep() == .fetch(afterSeq: 8, limit: 2))
    }

    @Test func transientFailureRewindsToTheFirstUnacknowledgedAfterInFlightResolves() {
        var window = DeliveryWindow(capacity: 4)
        for seq in Int64(1)...4 { window.sent(seq: seq) }
        _ = window.acknowledged(seq: 1, streamSequence: 11)
        #expect(window.failed(seq: 2, failure: timeout) == .recordFailure(seq: 2, failure: timeout))
        #expect(!window.maySend)
        #expect(window.nextStep() == .awaitAcknowledgement)
        // The server still acknowledged 3: it counts as delivered.
        #expect(window.acknowledged(seq: 3, streamSequence: 13) == .markDelivered(seq: 3, streamSequence: 13))
        #expect(window.failed(seq: 4, failure: timeout) == .recordFailure(seq: 4, failure: timeout))
        #expect(window.nextStep() == .rewind(to: 2, failure: timeout))
        // After the rewind the next fetch starts at 2 again (delivered 3 is skipped by the journal).
        #expect(window.nextStep() == .fetch(afterSeq: 1, limit: 4))
    }

    @Test func sendFailureStopsSendingAndRewindsToIt() {
        var window = DeliveryWindow(capacity: 4)
        window.sent(seq: 1)
        #expect(window.sendFailed(seq: 2, failure: timeout) == .recordFailure(seq: 2, failure: timeout))
        #expect(!window.maySend)
        #expect(window.nextStep() == .awaitAcknowledgement)
        _ = window.acknowledged(seq: 1, streamSequence: 1)
        #expect(window.nextStep() == .rewind(to: 2, failure: timeout))
    }

    @Test func earliestFailureWinsTheRewind() {
        var window = DeliveryWindow(capacity: 4)
        for seq in Int64(1)...3 { window.sent(seq: seq) }
        _ = window.failed(seq: 1, failure: timeout)
        let disconnected = DeliveryFailure(code: .disconnected, message: "gone")
        _ = window.failed(seq: 2, failure: disconnected)
        _ = window.failed(seq: 3, failure: disconnected)
        #expect(window.nextStep() == .rewind(to: 1, failure: timeout))
    }

    @Test func poisonParksAndDeliveryGoesOn() {
        var window = DeliveryWindow(capacity: 4)
        window.sent(seq: 1)
        window.sent(seq: 2)
        #expect(window.failed(seq: 1, failure: tooLarge) == .park(seq: 1, failure: tooLarge))
        #expect(window.maySend)
        #expect(window.acknowledged(seq: 2, streamSequence: 7) == .markDelivered(seq: 2, streamSequence: 7))
        #expect(window.nextStep() == .fetch(afterSeq: 2, limit: 4))
    }

    @Test func poisonRefusedAtSendIsSkipped() {
        var window = DeliveryWindow(capacity: 4)
        #expect(window.sendFailed(seq: 3, failure: tooLarge) == .park(seq: 3, failure: tooLarge))
        #expect(window.cursor == 3)
        #expect(window.maySend)
        window.sent(seq: 4)
        #expect(window.inFlightSequences == [4])
    }

    @Test func abandoningInFlightRewindsToTheOldest() {
        var window = DeliveryWindow(capacity: 4)
        for seq in Int64(7)...9 { window.sent(seq: seq) }
        let lost = DeliveryFailure(code: .disconnected, message: "transport closed")
        window.abandonInFlight(failure: lost)
        #expect(window.inFlightCount == 0)
        #expect(window.nextStep() == .rewind(to: 7, failure: lost))
    }

    @Test func longRunsKeepOrderAcrossCompaction() {
        var window = DeliveryWindow(capacity: 4000)
        for seq in Int64(1)...4000 { window.sent(seq: seq) }
        for seq in Int64(1)...3000 {
            #expect(
                window.acknowledged(seq: seq, streamSequence: UInt64(seq))
                    == .markDelivered(seq: seq, streamSequence: UInt64(seq)))
        }
        #expect(window.oldestInFlight == 3001)
        #expect(window.inFlightCount == 1000)
        for seq in Int64(4001)...6000 { window.sent(seq: seq) }
        #expect(window.inFlightSequences.first == 3001)
        #expect(window.inFlightSequences.last == 6000)
    }
}

struct DeliveryFailureClassificationTests {
    @Test func poisonCodesNeverRetry() {
        for code: DeliveryFailure.Code in [.payloadTooLarge, .permissionDenied, .jetStreamRejected, .sealing] {
            #expect(DeliveryFailure(code: code, message: "x").isPoison, "\(code)")
        }
    }

    @Test func transientCodesRetry() {
        for code: DeliveryFailure.Code in [
            .timeout, .disconnected, .noResponders, .jetStreamTransient, .streamSetup, .other,
        ] {
            #expect(!DeliveryFailure(code: code, message: "x").isPoison, "\(code)")
        }
    }

    @Test func jetStreamServiceUnavailableIsTransient() {
        let failure = DeliveryFailure.jetStreamAPIError(
            code: 503, errorCode: 10008, description: "JetStream system temporarily unavailable")
        #expect(failure.code == .jetStreamTransient)
        #expect(!failure.isPoison)
    }

    @Test func missingStreamIsTransient() {
        let failure = DeliveryFailure.jetStreamAPIError(code: 404, errorCode: 10059, description: "stream not found")
        #expect(!failure.isPoison)
    }

    @Test func messageTooLargeForTheStreamIsPoison() {
        let failure = DeliveryFailure.jetStreamAPIError(
            code: 400, errorCode: 10054, description: "message size exceeds maximum allowed")
        #expect(failure.isPoison)
        #expect(failure.description.contains("10054"))
    }
}
