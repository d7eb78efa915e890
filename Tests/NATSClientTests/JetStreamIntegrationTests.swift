import NATSClient
import NATSTestSupport
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(3)))
struct JetStreamIntegrationTests {
    private static let config = StreamConfig(
        name: "EVENTS", subjects: ["events.>"], storage: .file, duplicateWindow: .seconds(600))

    @Test func ensureStreamCreatesThenKeepsThenUpdates() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            let missing = try await #require(throws: JetStreamAPIError.self) {
                _ = try await js.streamInfo(name: "EVENTS")
            }
            #expect(missing.errorCode == JetStreamAPIError.streamNotFound)
            let created = try await js.ensureStream(Self.config)
            #expect(created.config.subjects == ["events.>"])
            #expect(created.config.duplicateWindow == .seconds(600))
            #expect(created.config.storage == .file)
            let again = try await js.ensureStream(Self.config)
            #expect(again.config == created.config)
            var changed = Self.config
            changed.subjects = ["events.>", "more.>"]
            changed.duplicateWindow = .seconds(900)
            let updated = try await js.ensureStream(changed)
            #expect(Set(updated.config.subjects) == ["events.>", "more.>"])
            #expect(updated.config.duplicateWindow == .seconds(900))
        }
    }

    @Test func publishIsAcknowledgedAndDuplicatesAreDetectedByMessageID() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.ensureStream(Self.config)
            let first = try await js.publish(
                subject: "events.a", payload: ByteBuffer(string: "one"), messageID: "id-1",
                expectations: JetStreamPublishExpectations(stream: "EVENTS"))
            #expect(first == PubAck(stream: "EVENTS", seq: 1, duplicate: false))
            let second = try await js.publish(
                subject: "events.a", payload: ByteBuffer(string: "one"), messageID: "id-1")
            #expect(second.duplicate)
            #expect(second.seq == 1)
            let third = try await js.publish(subject: "events.b", payload: ByteBuffer(string: "two"), messageID: "id-2")
            #expect(third == PubAck(stream: "EVENTS", seq: 2, duplicate: false))
            let stored = try await js.getMessage(stream: "EVENTS", sequence: 1)
            #expect(stored.subject == "events.a")
            #expect(stored.payload == Array("one".utf8))
            #expect(stored.headers?["Nats-Msg-Id"] == "id-1")
            #expect(try await js.streamInfo(name: "EVENTS").state.messages == 2)
        }
    }

    @Test func wrongExpectedStreamIsATypedAPIError() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.ensureStream(Self.config)
            let error = try await #require(throws: JetStreamAPIError.self) {
                _ = try await js.publish(
                    subject: "events.a", payload: ByteBuffer(string: "x"),
                    expectations: JetStreamPublishExpectations(stream: "OTHER"))
            }
            #expect(error.code == 400)
            #expect(error.errorCode == JetStreamAPIError.streamNameMismatch)
        }
    }

    @Test func publishToSubjectWithoutStreamFailsWithNoResponders() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let error = try await #require(throws: NATSError.self) {
                _ = try await connection.jetStream().publish(subject: "nowhere.x", payload: ByteBuffer(string: "x"))
            }
            #expect(error.code == .noResponders)
        }
    }

    @Test func pipelinedPublishingReturnsAcksInPublishOrder() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream(timeout: .seconds(10), maxPending: 512)
            _ = try await js.ensureStream(Self.config)
            let total = 5000
            let payload = ByteBuffer(repeating: UInt8(ascii: "x"), count: 400)
            let start = ContinuousClock.now
            let acks = try await withThrowingTaskGroup(of: [PubAck].self) { group in
                let (stream, continuation) = AsyncStream<PendingAck>.makeStream()
                group.addTask {
                    var acks: [PubAck] = []
                    for await pending in stream {
                        acks.append(try await pending.result())
                    }
                    return acks
                }
                for index in 0..<total {
                    continuation.yield(
                        try await js.publishPipelined(
                            subject: "events.\(index % 7)", payload: payload, messageID: "msg-\(index)"))
                }
                continuation.finish()
                return try await group.next() ?? []
            }
            let elapsed = ContinuousClock.now - start
            #expect(acks.count == total)
            #expect(acks.map(\.seq) == (1...UInt64(total)).map { $0 })
            #expect(!acks.contains { $0.duplicate })
            #expect(try await js.streamInfo(name: "EVENTS").state.messages == UInt64(total))
            #expect(js.availablePermits == 512)
            let rate =
                Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            print("pipelined JetStream publish: \(total) acks in \(elapsed), \(Int(rate)) msg/s")
        }
    }

    @Test func everyAcknowledgedMessageSurvivesAServerRestartDuringPipelining() async throws {
        try await withServerAndConnection(
            jetStream: true,
            configure: reconnectFast,
            body: { server, connection in
                let js = connection.jetStream(timeout: .seconds(2), maxPending: 128)
                _ = try await js.ensureStream(Self.config)
                let total = 3000
                var acknowledged: [Int: UInt64] = [:]
                var failures = 0
                var restarted = false
                var firstUnacknowledged = 0
                var nextToSend = 0
                var inFlight: [(index: Int, ack: PendingAck)] = []
                let deadline = ContinuousClock.now + .seconds(60)
                var restartTask: Task<Void, any Error>?
                while firstUnacknowledged < total {
                    #expect(ContinuousClock.now < deadline, "go-back-N did not finish in time")
                    if ContinuousClock.now >= deadline { break }
                    do {
                        while nextToSend < total, inFlight.count < 128 {
                            let pending = try await js.publishPipelined(
                                subject: "events.r", payload: ByteBuffer(string: "payload-\(nextToSend)"),
                                messageID: "restart-\(nextToSend)")
                            inFlight.append((nextToSend, pending))
                            nextToSend += 1
                            if !restarted, nextToSend == 1000 {
                                // Freeze the server so the acks of what is in flight now never come, then crash it.
                                restarted = true
                                await server.freeze()
                                restartTask = Task {
                                    try await Task.sleep(for: .milliseconds(100))  // the fault's timing
                                    try await server.restart(killing: true)
                                }
                            }
                        }
                        let (index, pending) = inFlight.removeFirst()
                        let ack = try await pending.result()
                        #expect(index == firstUnacknowledged)
                        acknowledged[index] = ack.seq
                        firstUnacknowledged = index + 1
                    } catch {
                        failures += 1
                        for entry in inFlight { _ = try? await entry.ack.result() }
                        inFlight.removeAll()
                        nextToSend = firstUnacknowledged
                        try await Task.sleep(for: .milliseconds(50))  // the publisher's back-off before resending
                    }
                }
                try await restartTask?.value
                #expect(acknowledged.count == total)
                #expect(failures > 0, "the restart should have interrupted the pipeline")
                let info = try await js.streamInfo(name: "EVENTS")
                #expect(info.state.messages == UInt64(total), "duplicates were dropped by Nats-Msg-Id")
                for index in stride(from: 0, to: total, by: 37) {
                    let stored = try await js.getMessage(stream: "EVENTS", sequence: try #require(acknowledged[index]))
                    #expect(stored.headers?["Nats-Msg-Id"] == "restart-\(index)")
                    #expect(stored.payload == Array("payload-\(index)".utf8))
                }
                print("restart during pipelining: \(failures) go-back-N rounds, \(total) acknowledged and stored once")
            })
    }
}
