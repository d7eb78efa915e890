import NATSTestSupport
import NIOCore
import Testing

@testable import NATSClient

@Suite(.timeLimit(.minutes(3)))
struct JetStreamBatchTests {
    private static let config = StreamConfig(
        name: "BATCH", subjects: ["batch.>"], storage: .file, duplicateWindow: .seconds(600))

    private static func messages(_ range: Range<Int>, prefix: String = "m") -> [JetStreamOutgoingMessage] {
        range.map {
            JetStreamOutgoingMessage(
                subject: "batch.\($0 % 5)", payload: ByteBuffer(string: "payload-\($0)"), messageID: "\(prefix)-\($0)")
        }
    }

    @Test func batchAcksComeBackInPublishOrder() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream(maxPending: 64)
            _ = try await js.ensureStream(Self.config)
            let acks = try await js.publishBatch(Self.messages(0..<1000))
            #expect(acks.count == 1000)
            #expect(acks.map(\.messageID) == (0..<1000).map { "m-\($0)" })
            let results = await PendingAck.results(acks)
            let seqs = try results.map { try $0.get().seq }
            #expect(seqs == (1...1000).map { UInt64($0) })
            #expect(js.availablePermits == 64)
            #expect(try await js.streamInfo(name: "BATCH").state.messages == 1000)
            let again = try await js.publishBatch(Self.messages(0..<10)).awaitAll()
            #expect(try again.allSatisfy { try $0.get().duplicate })
        }
    }

    @Test func aFailureBelongsToExactlyItsMessage() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream(maxPending: 8)
            _ = try await js.ensureStream(Self.config)
            var batch = Self.messages(0..<20)
            batch[3].expectations = JetStreamPublishExpectations(stream: "OTHER")
            batch[11].subject = "nowhere.x"
            batch[17].expectations = JetStreamPublishExpectations(lastMessageID: "not-the-last")
            let results = try await js.publishBatch(batch).awaitAll()
            var expectedSeq: UInt64 = 1
            for (index, result) in results.enumerated() {
                switch index {
                case 3:
                    let error = try #require(throws: JetStreamAPIError.self) { try result.get() }
                    #expect(error.errorCode == JetStreamAPIError.streamNameMismatch)
                case 11:
                    let error = try #require(throws: NATSError.self) { try result.get() }
                    #expect(error.code == .noResponders)
                case 17:
                    #expect(throws: JetStreamAPIError.self) { try result.get() }
                default:
                    #expect(try result.get().seq == expectedSeq, "message \(index)")
                    expectedSeq += 1
                }
            }
            #expect(try await js.streamInfo(name: "BATCH").state.messages == 17)
            #expect(js.availablePermits == 8)
        }
    }

    @Test func invalidMessageRejectsTheBatchBeforeAnythingIsSent() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.ensureStream(Self.config)
            var batch = Self.messages(0..<5)
            batch[2].subject = "has space"
            let invalid = try await #require(throws: NATSError.self) { _ = try await js.publishBatch(batch) }
            #expect(invalid.code == .invalidSubject)
            batch[2].subject = "batch.big"
            batch[2].payload = ByteBuffer(repeating: 0, count: connection.maxPayload + 1)
            let tooLarge = try await #require(throws: NATSError.self) { _ = try await js.publishBatch(batch) }
            #expect(tooLarge.code == .payloadTooLarge)
            #expect(js.availablePermits == 256)
            #expect(try await js.streamInfo(name: "BATCH").state.messages == 0)
        }
    }

    @Test func windowBoundsWhatIsOutstandingDuringABatch() async throws {
        try await withServerAndConnection(jetStream: true) { server, connection in
            let js = connection.jetStream(timeout: .seconds(20), maxPending: 16)
            _ = try await js.ensureStream(Self.config)
            await server.freeze()
            let publishing = Task { try await js.publishBatch(Self.messages(0..<100)) }
            // The window fills and stays full: the frozen server acknowledges nothing.
            #expect(try await waitUntil { js.availablePermits == 0 })
            server.thaw()
            let acks = try await withDeadline(.seconds(15), "the batch behind a full window") {
                try await publishing.value
            }
            let seqs = try await acks.awaitAll().map { try $0.get().seq }
            #expect(seqs == (1...100).map { UInt64($0) })
            #expect(js.availablePermits == 16)
        }
    }

    @Test func eachMessageTimesOutOnItsOwnAndPermitsReturn() async throws {
        try await withServerAndConnection(jetStream: true) { server, connection in
            let js = connection.jetStream(timeout: .milliseconds(300), maxPending: 8)
            _ = try await js.ensureStream(Self.config)
            await server.freeze()
            let start = ContinuousClock.now
            let acks = try await js.publishBatch(Self.messages(0..<5))
            let results = await acks.awaitAll()
            let elapsed = ContinuousClock.now - start
            for result in results {
                let error = try #require(throws: NATSError.self) { try result.get() }
                #expect(error.code == .timeout)
            }
            #expect(elapsed >= .milliseconds(290))
            #expect(elapsed < .seconds(3))
            #expect(js.availablePermits == 8)
            server.thaw()
        }
    }

    @Test func cancellingAWaitEndsItAtOnceAndTheAckStillArrives() async throws {
        try await withServerAndConnection(jetStream: true) { server, connection in
            let js = connection.jetStream(timeout: .seconds(20), maxPending: 8)
            _ = try await js.ensureStream(Self.config)
            await server.freeze()
            let acks = try await js.publishBatch(Self.messages(0..<3))
            let waiter = Task { try await acks[0].result() }
            try await eventually("the waiter to be suspended", timeout: .seconds(5), poll: .milliseconds(1)) {
                acks[0].slot.suspendedWaiters == 1
            }
            let start = ContinuousClock.now
            waiter.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(acks[0].outcome == nil)
            server.thaw()
            let results = try await withDeadline(.seconds(10), "acks after the thaw") { await acks.awaitAll() }
            #expect(try results.map { try $0.get().seq } == [1, 2, 3])
            #expect(js.availablePermits == 8)
        }
    }

    @Test func restartMidBatchFailsOnlyTheLostMessagesAndGoBackNStoresEachOnce() async throws {
        try await withServerAndConnection(
            jetStream: true,
            configure: reconnectFast,
            body: { server, connection in
                let js = connection.jetStream(timeout: .seconds(5), maxPending: 64)
                _ = try await js.ensureStream(Self.config)
                let total = 600
                let first = try await js.publishBatch(Self.messages(0..<100, prefix: "r")).awaitAll()
                #expect(first.allSatisfy { (try? $0.get()) != nil })
                await server.freeze()
                let crash = Task {
                    try await Task.sleep(for: .milliseconds(200))  // the fault's timing: crash mid-batch
                    try await server.restart(killing: true)
                }
                let results = try await js.publishBatch(Self.messages(100..<total, prefix: "r")).awaitAll()
                try await crash.value
                let failed = results.indices.filter { (try? results[$0].get()) == nil }.map { $0 + 100 }
                #expect(!failed.isEmpty, "the crash should have lost some acks")
                for index in failed {
                    let error = try #require(throws: NATSError.self) { try results[index - 100].get() }
                    #expect(error.code == .connectionLost, "message \(index): \(error)")
                }
                // Go back to the first unacknowledged message and resend everything from there.
                let resendFrom = try #require(failed.first)
                let resent = try await withDeadline(.seconds(20), "the resent batch") {
                    try await js.publishBatch(Self.messages(resendFrom..<total, prefix: "r")).awaitAll()
                }
                #expect(resent.allSatisfy { (try? $0.get()) != nil })
                #expect(try await js.streamInfo(name: "BATCH").state.messages == UInt64(total))
                #expect(js.availablePermits == 64)
            })
    }

    @Test func batchOnAClosedConnectionFailsEveryMessage() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream(maxPending: 4)
            _ = try await js.ensureStream(Self.config)
            await connection.close()
            let results = try await js.publishBatch(Self.messages(0..<10)).awaitAll()
            #expect(results.count == 10)
            for result in results {
                let error = try #require(throws: NATSError.self) { try result.get() }
                #expect(error.code == .connectionClosed)
            }
            #expect(js.availablePermits == 4)
            let single = try await #require(throws: NATSError.self) {
                _ = try await js.publishPipelined(subject: "batch.x", payload: ByteBuffer(string: "x"))
            }
            #expect(single.code == .connectionClosed)
        }
    }
}

struct PubAckScannerTests {
    private static func scan(_ text: String) -> PubAck? {
        Array(text.utf8).withUnsafeBufferPointer { PubAckScanner.scan($0) }
    }

    @Test func readsTheRepliesNatsServerWrites() {
        #expect(Self.scan(#"{"stream":"BENCH", "seq":60001}"#) == PubAck(stream: "BENCH", seq: 60001))
        #expect(
            Self.scan(#"{"stream":"BENCH", "seq":7,"duplicate": true}"#)
                == PubAck(stream: "BENCH", seq: 7, duplicate: true))
        #expect(
            Self.scan(#"{"stream":"S","domain":"hub","seq":3}"#) == PubAck(stream: "S", seq: 3, domain: "hub"))
        #expect(Self.scan(#" { "seq" : 1 , "stream" : "S" } "#) == PubAck(stream: "S", seq: 1))
    }

    @Test func leavesAnythingElseToTheFullDecoder() {
        #expect(Self.scan(#"{"error":{"code":400,"err_code":10060,"description":"x"},"stream":"S","seq":0}"#) == nil)
        #expect(Self.scan(#"{"stream":"S\"x","seq":1}"#) == nil)
        #expect(Self.scan(#"{"stream":"S"}"#) == nil)
        #expect(Self.scan(#"{"stream":"S","seq":-1}"#) == nil)
        #expect(Self.scan(#"{"stream":"S","seq":99999999999999999999999}"#) == nil)
        #expect(Self.scan(#"{"stream":"S","seq":1,"other":2}"#) == nil)
        #expect(Self.scan(#"{"stream":"S","seq":1}x"#) == nil)
        #expect(Self.scan(#"{"stream":"S","seq":1"#) == nil)
        #expect(Self.scan("") == nil)
    }
}
