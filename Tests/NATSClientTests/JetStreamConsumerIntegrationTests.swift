import Foundation
import NATSClient
import NATSTestSupport
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Pull consumers against a real nats-server with JetStream file storage.
@Suite(.timeLimit(.minutes(3)))
struct JetStreamConsumerIntegrationTests {
    static let stream = StreamConfig(name: "EVENTS", subjects: ["events.>"], storage: .file)
    /// Short enough that renewals and redeliveries happen within a test, long enough for a loaded machine.
    static let quick = PullFlow.Settings(batch: 8, expires: .seconds(2), heartbeat: .milliseconds(500))

    private func publish(_ count: Int, from first: Int = 1, on js: JetStreamContext) async throws {
        for index in first..<(first + count) {
            _ = try await js.publish(subject: "events.\(index % 3)", payload: ByteBuffer(string: "m\(index)"))
        }
    }

    @Test func durableAndEphemeralConsumersAreCreatedLookedUpAndDeleted() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            try await self.publish(3, on: js)
            let config = ConsumerConfig(
                durableName: "reader", deliverPolicy: .byStartSequence(2), ackWait: .seconds(7), maxDeliver: 4,
                filterSubject: "events.>")
            let created = try await js.createConsumer(stream: "EVENTS", config: config)
            #expect(created.name == "reader" && created.streamName == "EVENTS" && created.numPending == 2)
            #expect(created.config.ackWait == .seconds(7) && created.config.maxDeliver == 4)
            #expect(created.config.deliverPolicy == .byStartSequence(2) && created.config.ackPolicy == .explicit)
            let again = try await js.createConsumer(stream: "EVENTS", config: config)
            #expect(again.name == "reader", "creating it again with the same configuration returns it")
            #expect(try await js.consumerInfo(stream: "EVENTS", name: "reader").config == created.config)

            let ephemeral = try await js.createConsumer(
                stream: "EVENTS", config: ConsumerConfig(ackPolicy: .none, filterSubject: "events.1"))
            #expect(!ephemeral.name.isEmpty && ephemeral.config.durableName == nil && ephemeral.numPending == 1)

            try await js.deleteConsumer(stream: "EVENTS", name: "reader")
            let missing = try await #require(throws: JetStreamAPIError.self) {
                _ = try await js.consumerInfo(stream: "EVENTS", name: "reader")
            }
            #expect(missing.errorCode == JetStreamAPIError.consumerNotFound && missing.code == 404)
            let noStream = try await #require(throws: JetStreamAPIError.self) {
                _ = try await js.createConsumer(stream: "NOPE", config: ConsumerConfig(durableName: "x"))
            }
            #expect(noStream.errorCode == JetStreamAPIError.streamNotFound)
        }
    }

    @Test func fetchedBatchesSkipNothingAndAnEmptyConsumerAnswersWithoutMessages() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            try await self.publish(25, on: js)
            _ = try await js.createConsumer(stream: "EVENTS", config: ConsumerConfig(durableName: "batches"))
            var sequences: [UInt64] = []
            for _ in 0..<3 {
                let batch = try await js.fetch(
                    stream: "EVENTS", consumer: "batches", PullRequest(batch: 10, expires: .seconds(1)))
                for message in batch { try await message.ack() }
                sequences += batch.map(\.metadata.streamSequence)
            }
            #expect(sequences == Array(1...25))
            // Nothing left: no_wait answers 404 at once, a waiting request 408 at its expiry (with heartbeats).
            let none = try await js.fetch(stream: "EVENTS", consumer: "batches", PullRequest(batch: 5, noWait: true))
            #expect(none.isEmpty)
            let idle = try await js.fetch(
                stream: "EVENTS", consumer: "batches",
                PullRequest(batch: 5, expires: .milliseconds(1500), idleHeartbeat: .milliseconds(300)))
            #expect(idle.isEmpty)
            let gone = try await #require(throws: JetStreamAPIError.self) {
                _ = try await connection.jetStream(timeout: .milliseconds(500)).fetch(
                    stream: "EVENTS", consumer: "nobody", PullRequest(batch: 1, noWait: true))
            }
            #expect(gone.errorCode == JetStreamAPIError.consumerNotFound)
        }
    }

    @Test func anUnacknowledgedMessageIsRedeliveredAfterTheAckWait() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            try await self.publish(2, on: js)
            _ = try await js.createConsumer(
                stream: "EVENTS", config: ConsumerConfig(durableName: "slow", ackWait: .milliseconds(400)))
            let first = try await js.fetch(stream: "EVENTS", consumer: "slow", PullRequest(batch: 1, noWait: true))
            #expect(first.map(\.metadata.streamSequence) == [1] && first.first?.metadata.deliveryCount == 1)
            // Not acknowledged: the next request gets message 2, then message 1 again once the ack wait passed.
            var seen: [JetStreamMessageMetadata] = []
            while seen.count < 2 {
                let batch = try await js.fetch(
                    stream: "EVENTS", consumer: "slow", PullRequest(batch: 2, expires: .seconds(5)))
                for message in batch { try await message.doubleAck() }
                seen += batch.map(\.metadata)
            }
            #expect(Set(seen.map(\.streamSequence)) == [1, 2])
            #expect(seen.first { $0.streamSequence == 1 }?.deliveryCount == 2)
            let info = try await js.consumerInfo(stream: "EVENTS", name: "slow")
            #expect(info.numAckPending == 0 && info.numRedelivered == 0 && info.ackFloor.streamSeq == 2)
        }
    }

    @Test func nakRedeliversDelayedNakWaitsAndTermStopsDelivery() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            try await self.publish(3, on: js)
            _ = try await js.createConsumer(stream: "EVENTS", config: ConsumerConfig(durableName: "picky"))
            func next() async throws -> JetStreamMessage {
                let batch = try await js.fetch(
                    stream: "EVENTS", consumer: "picky", PullRequest(batch: 1, expires: .seconds(5)))
                return try #require(batch.first)
            }
            let one = try await next()
            #expect(one.metadata.streamSequence == 1)
            try await one.confirm(.nak(delay: nil))
            let again = try await next()
            #expect(again.metadata.streamSequence == 1 && again.metadata.deliveryCount == 2)
            try await again.confirm(.term)
            let two = try await next()
            #expect(two.metadata.streamSequence == 2)
            try await two.inProgress()
            try await two.confirm(.nak(delay: .seconds(60)))
            let three = try await next()
            #expect(three.metadata.streamSequence == 3, "a delayed nak is not redelivered at once")
            try await three.doubleAck()
            let rest = try await js.fetch(stream: "EVENTS", consumer: "picky", PullRequest(batch: 5, noWait: true))
            #expect(rest.isEmpty, "terminated and delayed messages are not delivered: \(rest.map(\.metadata))")
        }
    }

    @Test func theMessageSequenceKeepsPullingAcrossBatchesAndIdleRenewals() async throws {
        try await withServerAndConnection(jetStream: true) { server, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            try await self.publish(50, on: js)
            _ = try await js.createConsumer(stream: "EVENTS", config: ConsumerConfig(durableName: "tail"))
            let reader = ConsumerReader(js.messages(stream: "EVENTS", consumer: "tail", settings: Self.quick))
            #expect(try await reader.take(50).map(\.streamSequence) == Array(1...50))
            // Idle: requests expire (408) and are renewed, as a second connection sees; a message stored
            // after several renewals still arrives.
            let observer = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
            let pulls = try await observer.subscribe(subject: "$JS.API.CONSUMER.MSG.NEXT.EVENTS.tail")
            try await observer.flush()
            let requests = try await collect(pulls, count: 3, within: .seconds(60))
            #expect(requests.count == 3)
            try await self.publish(1, from: 51, on: js)
            #expect(try await reader.take(1).map(\.streamSequence) == [51])
            reader.stop()
            await observer.close()
        }
    }

    @Test func aDurableConsumerResumesAfterTheSubscriberAndTheServerRestart() async throws {
        try await withServerAndConnection(jetStream: true) { server, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            try await self.publish(10, on: js)
            // A short ack wait: what the first subscriber received but did not acknowledge comes back soon.
            _ = try await js.createConsumer(
                stream: "EVENTS", config: ConsumerConfig(durableName: "resume", ackWait: .seconds(1)))
            var settings = Self.quick
            settings.batch = 3
            let first = ConsumerReader(js.messages(stream: "EVENTS", consumer: "resume", settings: settings))
            let firstFour = try await first.take(4).map(\.streamSequence)
            #expect(firstFour == [1, 2, 3, 4])
            let acknowledgedFirst = Set(await first.finish().map(\.streamSequence))

            // A new subscriber on its own connection goes on after what the first acknowledged.
            let second = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
            let reader = ConsumerReader(
                second.jetStream().messages(stream: "EVENTS", consumer: "resume", settings: settings))
            var seen = try await reader.take(1).map(\.streamSequence)

            // The server restarts (file storage); the reader reconnects and renews its requests.
            let events = second.stateChanges
            try await server.restart()
            _ = try await waitForEvent(events, within: .seconds(20)) { $0 == .reconnected }
            let restarted = ContinuousClock.now
            while true {
                do {
                    try await self.publish(2, from: 11, on: second.jetStream(timeout: .seconds(2)))
                    break
                } catch  where ContinuousClock.now - restarted < .seconds(20) {
                    continue  // JetStream still recovering its store
                }
            }
            while acknowledgedFirst.union(seen) != Set(1...12) {
                seen += try await reader.take(1).map(\.streamSequence)
            }
            #expect(acknowledgedFirst.isDisjoint(with: seen), "acknowledged \(acknowledgedFirst), then \(seen)")
            #expect(acknowledgedFirst.isSuperset(of: 1...4))
            _ = await reader.finish()
            await second.close()
        }
    }

    @Test func deletingTheConsumerEndsTheSequenceWithAnError() async throws {
        try await withServerAndConnection(jetStream: true) { _, connection in
            let js = connection.jetStream()
            _ = try await js.createStream(Self.stream)
            _ = try await js.createConsumer(stream: "EVENTS", config: ConsumerConfig(durableName: "doomed"))
            let outcome = NIOLockedValueBox<(any Error)?>(nil)
            let (ended, signal) = AsyncStream<Void>.makeStream()
            let task = Task {
                do {
                    for try await _ in js.messages(stream: "EVENTS", consumer: "doomed", settings: Self.quick) {}
                } catch {
                    outcome.withLockedValue { $0 = error }
                }
                signal.yield()
            }
            // Wait until its first request waits at the server.
            let waiting = try await withDeadline(.seconds(20), "a waiting pull request") {
                while try await js.consumerInfo(stream: "EVENTS", name: "doomed").numWaiting == 0 {
                    await Task.yield()
                }
                return true
            }
            #expect(waiting)
            try await js.deleteConsumer(stream: "EVENTS", name: "doomed")
            _ = try await withDeadline(.seconds(20), "the sequence to end") {
                for await _ in ended { return true }
                return false
            }
            task.cancel()
            let error = outcome.withLockedValue { $0 }
            if let pull = error as? JetStreamPullError {
                #expect(pull.code == 409 && pull.statusDescription.contains("Consumer Deleted"))
            } else if let api = error as? JetStreamAPIError {
                #expect(api.errorCode == JetStreamAPIError.consumerNotFound)
            } else {
                Issue.record("unexpected end: \(String(describing: error))")
            }
        }
    }
}

/// Iterates a ``PullConsumerMessages`` in a task, acknowledging each message (waiting for the server's
/// confirmation) before handing its metadata to the test; a message whose acknowledgement was not
/// confirmed is left for redelivery.
final class ConsumerReader: Sendable {
    private let task: Task<Void, Never>
    private let received: AsyncStream<JetStreamMessageMetadata>
    private let failure = NIOLockedValueBox<(any Error)?>(nil)
    private let acknowledged = NIOLockedValueBox<[JetStreamMessageMetadata]>([])

    init(_ messages: PullConsumerMessages) {
        let (stream, continuation) = AsyncStream<JetStreamMessageMetadata>.makeStream()
        self.received = stream
        let failure = self.failure
        let acknowledged = self.acknowledged
        self.task = Task {
            do {
                for try await message in messages {
                    // Not cancelled half-way: an acknowledgement the server got is always recorded.
                    // An acknowledgement lost in a server restart is not fatal: the message comes again.
                    guard (try? await Task { try await message.doubleAck() }.value) != nil else { continue }
                    acknowledged.withLockedValue { $0.append(message.metadata) }
                    continuation.yield(message.metadata)
                }
            } catch {
                failure.withLockedValue { $0 = error }
            }
            continuation.finish()
        }
    }

    /// The next `count` messages, within a generous deadline.
    func take(_ count: Int, within limit: Duration = .seconds(30)) async throws -> [JetStreamMessageMetadata] {
        let received = self.received
        let taken = try await withDeadline(limit, "\(count) consumer messages") {
            var taken: [JetStreamMessageMetadata] = []
            for await metadata in received {
                taken.append(metadata)
                if taken.count == count { break }
            }
            return taken
        }
        if taken.count < count, let error = self.failure.withLockedValue({ $0 }) { throw error }
        return taken
    }

    func stop() {
        self.task.cancel()
    }

    /// Stops iterating and returns every message acknowledged, in order.
    func finish() async -> [JetStreamMessageMetadata] {
        self.task.cancel()
        await self.task.value
        return self.acknowledged.withLockedValue { $0 }
    }
}
