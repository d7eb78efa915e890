import Foundation
import Logging
import NATSClient
import NATSTestSupport
import NIOCore
import Outbox
import ServiceLifecycle
import Synchronization
import Testing
import Timekeeping

@testable import Gateway

#if canImport(Glibc)
    import Glibc
#endif

/// The delivery worker against a real nats-server (JetStream on disk), with an in-memory journal.
@Suite(.serialized)
struct DeliveryWorkerTests {
    let logger = Logger(label: "delivery-test", factory: { _ in SwiftLogNoOpLogHandler() })

    func configuration(maxInFlight: Int = 64, shutdownTimeout: Duration = .seconds(5)) -> DeliveryWorkerConfiguration {
        DeliveryWorkerConfiguration(
            maxInFlight: maxInFlight, pageSize: maxInFlight,
            backoff: Backoff(base: .milliseconds(20), cap: .milliseconds(200)),
            breakerFailureThreshold: 3, breakerCooldown: .milliseconds(200), shutdownTimeout: shutdownTimeout,
            pollInterval: .milliseconds(50), heartbeatInterval: nil, statusRefreshInterval: .milliseconds(50))
    }

    func connect(_ server: NATSServerProcess) async throws -> NATSConnection {
        var options = try NATSConnectionOptions(url: server.url)
        options.reconnect = NATSReconnectPolicy(baseDelay: .milliseconds(50), maxDelay: .milliseconds(200))
        options.requestTimeout = .seconds(2)
        return try await NATSConnection.connect(options: options)
    }

    func jetStream(
        _ connection: NATSConnection, publishPath: JetStreamPublishPath = .pipelinedContext,
        ackTimeout: Duration = .seconds(2)
    ) -> NATSDeliveryTransport {
        NATSDeliveryTransport(
            connection: connection,
            mode: .jetstream(JetStreamSettings(streamName: "WAZUHTEST", subjects: ["test.>"])),
            ackTimeout: ackTimeout, publishPath: publishPath, logger: logger)
    }

    func streamMessageCount(_ connection: NATSConnection) async throws -> Int {
        let reply = try await connection.request(subject: "$JS.API.STREAM.INFO.WAZUHTEST", timeout: .seconds(2))
        let object = try JSONSerialization.jsonObject(with: Data(reply.payloadBytes)) as? [String: Any]
        let state = object?["state"] as? [String: Any]
        return (state?["messages"] as? Int) ?? -1
    }

    /// Runs `worker` in a service group until `body` returns, then shuts it down gracefully.
    func withRunningWorker(_ worker: DeliveryWorker, _ body: () async throws -> Void) async throws {
        let group = ServiceGroup(configuration: .init(services: [worker], logger: logger))
        let task = Task { try await group.run() }
        do {
            try await body()
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        try await task.value
    }

    func fill(_ journal: InMemoryJournal, count: Int, from start: Int = 1, payloadSize: Int = 64) {
        for index in start..<(start + count) {
            let agent = String(format: "%03d", index % 50)
            var payload = Array("{\"n\":\(index)}".utf8)
            if payload.count < payloadSize {
                payload += Array(repeating: UInt8(ascii: " "), count: payloadSize - payload.count)
            }
            journal.append(subject: "test.agent.\(agent).status", messageID: "evt-\(index)", payload: payload)
        }
    }

    @Test(arguments: [JetStreamPublishPath.replyInbox, .pipelinedContext])
    func deliversEveryMessageInJournalOrderWithStreamSequences(publishPath: JetStreamPublishPath) async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let observer = try await connection.subscribe(subject: "test.>")
        let journal = InMemoryJournal()
        fill(journal, count: 500)
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection, publishPath: publishPath), sealer: PassThroughSealer(),
            configuration: configuration(), logger: logger)
        try await withRunningWorker(worker) {
            let done = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
            #expect(done)
        }
        #expect(journal.snapshot.map(\.streamSequence) == (1...500).map { UInt64($0) })
        #expect(try await streamMessageCount(connection) == 500)
        let seen = await collect(observer, count: 500).map {
            String(decoding: $0.payloadBytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        #expect(seen == (1...500).map { "{\"n\":\($0)}" })
        #expect(worker.status.current.deliveredTotal == 500)
        await connection.close()
    }

    @Test(arguments: [JetStreamPublishPath.replyInbox, .pipelinedContext])
    func acknowledgementsAreMarkedDeliveredInGroupsEachRowOnce(publishPath: JetStreamPublishPath) async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 2000)
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection, publishPath: publishPath), sealer: PassThroughSealer(),
            configuration: configuration(maxInFlight: 64), logger: logger)
        try await withRunningWorker(worker) {
            let done = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
            #expect(done)
        }
        let groups = journal.markedGroups
        // One transaction per group of acknowledgements (at most a page each), never one per acknowledgement;
        // every row marked exactly once, in journal order.
        #expect(groups.allSatisfy { !$0.isEmpty && $0.count <= 64 })
        #expect(groups.count < 2000 / 8)
        #expect(Array(groups.joined()) == (1...2000).map { Int64($0) })
        #expect(worker.status.current.deliveredTotal == 2000)
        await connection.close()
    }

    @Test func resendAfterLostAcknowledgementsStoresEachMessageOnce() async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 100)
        let first = DeliveryWorker(
            journal: journal, transport: jetStream(connection), sealer: PassThroughSealer(),
            configuration: configuration(), logger: logger)
        try await withRunningWorker(first) {
            let done = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
            #expect(done)
        }
        // A crash after publishing but before the acknowledgements were recorded: the same rows are
        // pending again in a fresh journal, and a new worker resends them all.
        let replayed = InMemoryJournal()
        fill(replayed, count: 100)
        fill(replayed, count: 20, from: 101)
        let second = DeliveryWorker(
            journal: replayed, transport: jetStream(connection), sealer: PassThroughSealer(),
            configuration: configuration(), logger: logger)
        try await withRunningWorker(second) {
            let done = try await waitUntil { replayed.snapshot.allSatisfy(\.delivered) }
            #expect(done)
        }
        #expect(try await streamMessageCount(connection) == 120)
        // Duplicates are acknowledged with the original stream sequence.
        #expect(replayed.snapshot.prefix(100).map(\.streamSequence) == journal.snapshot.map(\.streamSequence))
        await connection.close()
    }

    @Test(arguments: [JetStreamPublishPath.replyInbox, .pipelinedContext])
    func survivesNATSDownThenUpWithoutLossOrDuplicates(publishPath: JetStreamPublishPath) async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 50)
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection, publishPath: publishPath), sealer: PassThroughSealer(),
            configuration: configuration(maxInFlight: 16), logger: logger)
        try await withRunningWorker(worker) {
            let firstDone = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
            #expect(firstDone)
            await server.stop()
            fill(journal, count: 200, from: 51)
            worker.wakeSignal.wake()
            // The worker tried the new rows against the stopped server and failed.
            let tried = try await waitUntil(timeout: .seconds(20)) { worker.status.current.failedAttemptsTotal > 0 }
            #expect(tried)
            #expect(journal.snapshot.filter(\.delivered).count == 50)
            try await server.start()
            let recovered = try await waitUntil(timeout: .seconds(20)) { journal.snapshot.allSatisfy(\.delivered) }
            #expect(recovered)
        }
        #expect(try await streamMessageCount(connection) == 250)
        let sequences = journal.snapshot.compactMap(\.streamSequence)
        #expect(sequences == (1...250).map { UInt64($0) })
        await connection.close()
    }

    @Test(arguments: [JetStreamPublishPath.replyInbox, .pipelinedContext])
    func failureInTheMiddleOfAGroupResendsFromTheFirstUnacknowledgedAndMarksOnlyAcknowledged(
        publishPath: JetStreamPublishPath
    ) async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        // Row 40 goes to a subject no stream captures yet: JetStream answers "no responders" (transient)
        // while the rows around it, sent in the same window, are acknowledged.
        fill(journal, count: 39)
        journal.append(subject: "other.agent.040.status", messageID: "evt-40", payload: Array("{\"n\":40}".utf8))
        fill(journal, count: 60, from: 41)
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection, publishPath: publishPath), sealer: PassThroughSealer(),
            configuration: configuration(maxInFlight: 64), logger: logger)
        try await withRunningWorker(worker) {
            let othersDone = try await waitUntil { journal.snapshot.filter(\.delivered).count == 99 }
            #expect(othersDone)
            let retried = try await waitUntil { journal.snapshot[39].attempts >= 2 }
            #expect(retried)
            #expect(!journal.snapshot[39].delivered)
            // Every group marked only acknowledged rows: never row 40 while nothing could acknowledge it.
            #expect(!journal.markedGroups.joined().contains(40))
            _ = try await connection.jetStream().createStream(StreamConfig(name: "OTHER", subjects: ["other.>"]))
            let healed = try await waitUntil { journal.snapshot[39].delivered }
            #expect(healed)
        }
        #expect(journal.markedGroups.joined().sorted() == (1...100).map { Int64($0) })
        #expect(try await streamMessageCount(connection) == 99)
        var sequences = journal.snapshot.map(\.streamSequence)
        #expect(sequences.remove(at: 39) == 1)
        // The other 99 each kept the stream sequence of their first acknowledgement: nothing stored twice.
        let expected: [UInt64?] = (1...99).map { UInt64($0) }
        #expect(sequences == expected)
        await connection.close()
    }

    @Test func parksPoisonMessageAndDeliversTheRest() async throws {
        let server = try await startNATSServer(extraConfig: "max_payload: 4096\n")
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 5)
        fill(journal, count: 1, from: 6, payloadSize: 10_000)
        fill(journal, count: 5, from: 7)
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection), sealer: PassThroughSealer(),
            configuration: configuration(), logger: logger)
        try await withRunningWorker(worker) {
            let done = try await waitUntil { journal.snapshot.allSatisfy { $0.delivered || $0.parked != nil } }
            #expect(done)
        }
        let rows = journal.snapshot
        #expect(rows[5].parked != nil)
        #expect(rows.enumerated().allSatisfy { $0.offset == 5 || $0.element.delivered })
        #expect(worker.status.current.parkedTotal == 1)
        #expect(try await streamMessageCount(connection) == 10)
        await connection.close()
    }

    @Test func gracefulShutdownDrainsWhatIsPending() async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        let clock = ManualClock()
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection), sealer: PassThroughSealer(),
            configuration: configuration(), clock: clock, logger: logger)
        try await withRunningWorker(worker) {
            // The worker found the outbox empty and waits (on the test clock, which never moves).
            let idle = try await waitUntil { clock.sleepers == 1 }
            #expect(idle)
            fill(journal, count: 300)
            // No wake-up and no waiting: the shutdown itself must drain.
        }
        #expect(journal.snapshot.allSatisfy { $0.delivered })
        #expect(try await streamMessageCount(connection) == 300)
        await connection.close()
    }

    @Test func shutdownTimeoutLeavesTheRestJournaled() async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 20)
        await server.stop()
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection), sealer: PassThroughSealer(),
            configuration: configuration(shutdownTimeout: .milliseconds(300)), logger: logger)
        let started = ContinuousClock.now
        try await withRunningWorker(worker) {
            // The worker tried, and failed, to reach the stopped server.
            let tried = try await waitUntil { worker.status.current.failedAttemptsTotal > 0 }
            #expect(tried)
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(journal.snapshot.allSatisfy { !$0.delivered })
        #expect(try journal.pendingCount() == 20)
        await connection.close()
    }

    @Test(arguments: [JetStreamPublishPath.replyInbox, .pipelinedContext])
    func shutdownDoesNotWaitPastItsTimeoutForLostAcknowledgements(publishPath: JetStreamPublishPath) async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 5)
        let sealer = CountingSealer()
        let worker = DeliveryWorker(
            journal: journal, transport: jetStream(connection, publishPath: publishPath, ackTimeout: .seconds(20)),
            sealer: sealer, configuration: configuration(shutdownTimeout: .milliseconds(300)),
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [worker], logger: logger))
        let task = Task { try await group.run() }
        let firstDone = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
        #expect(firstDone)
        // A frozen server: the connection stays up, acknowledgements never come.
        // freeze() returns only once the process is really stopped, so no ack can slip through.
        await server.freeze()
        fill(journal, count: 20, from: 6)
        worker.wakeSignal.wake()
        // All 20 new rows were sealed and sent; their acknowledgements will never come.
        let sent = try await waitUntil { sealer.sealed == 25 }
        #expect(sent)
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await task.value
        let shutdown = ContinuousClock.now - started
        server.thaw()
        #expect(shutdown < .seconds(3))
        #expect(journal.snapshot.filter(\.delivered).count == 5)
        #expect(try journal.pendingCount() == 20)
        await connection.close()
    }

    @Test func requestModeIsDeliveredWhenAResponderAnswers() async throws {
        let server = try await startNATSServer(jetStream: false)
        let connection = try await connect(server)
        let responder = try await connect(server)
        let subscription = try await responder.subscribe(subject: "test.>")
        let received = StringRecorder()
        let answering = Task {
            for await message in subscription {
                received.append(message.subject)
                if let reply = message.replyTo {
                    try? await responder.publish(subject: reply, bytes: Array("ok".utf8))
                }
            }
        }
        let journal = InMemoryJournal()
        fill(journal, count: 40)
        let transport = NATSDeliveryTransport(
            connection: connection, mode: .request, ackTimeout: .seconds(2), logger: logger)
        let worker = DeliveryWorker(
            journal: journal, transport: transport, sealer: PassThroughSealer(), configuration: configuration(),
            logger: logger)
        try await withRunningWorker(worker) {
            let done = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
            #expect(done)
        }
        #expect(received.all.count == 40)
        answering.cancel()
        await responder.close()
        await connection.close()
    }

    @Test func requestModeWithoutRespondersRetriesInsteadOfDelivering() async throws {
        let server = try await startNATSServer(jetStream: false)
        let connection = try await connect(server)
        let journal = InMemoryJournal()
        fill(journal, count: 3)
        let transport = NATSDeliveryTransport(
            connection: connection, mode: .request, ackTimeout: .seconds(2), logger: logger)
        let worker = DeliveryWorker(
            journal: journal, transport: transport, sealer: PassThroughSealer(),
            configuration: configuration(shutdownTimeout: .milliseconds(200)), logger: logger)
        try await withRunningWorker(worker) {
            let done = try await waitUntil { worker.status.current.failedAttemptsTotal >= 2 }
            #expect(done)
        }
        #expect(journal.snapshot.allSatisfy { !$0.delivered && $0.parked == nil })
        #expect(worker.status.current.lastError?.code == .noResponders)
        await connection.close()
    }

    @Test func publishModeCountsFlushedMessagesDelivered() async throws {
        let server = try await startNATSServer(jetStream: false)
        let connection = try await connect(server)
        let listener = try await connect(server)
        let subscription = try await listener.subscribe(subject: "test.>")
        try await listener.flush()
        let journal = InMemoryJournal()
        fill(journal, count: 100)
        let transport = NATSDeliveryTransport(
            connection: connection, mode: .publish, ackTimeout: .seconds(2), logger: logger)
        let worker = DeliveryWorker(
            journal: journal, transport: transport, sealer: PassThroughSealer(), configuration: configuration(),
            logger: logger)
        try await withRunningWorker(worker) {
            let done = try await waitUntil { journal.snapshot.allSatisfy(\.delivered) }
            #expect(done)
        }
        #expect(await collect(subscription, count: 100).count == 100)
        #expect(journal.snapshot.allSatisfy { $0.streamSequence == nil })
        await listener.close()
        await connection.close()
    }

    @Test func heartbeatsArePublishedWhileConnected() async throws {
        let server = try await startNATSServer()
        let connection = try await connect(server)
        let listener = try await connect(server)
        let subscription = try await listener.subscribe(subject: "test.manager.*.heartbeat")
        try await listener.flush()
        var config = configuration()
        config.heartbeatInterval = .milliseconds(100)
        let worker = DeliveryWorker(
            journal: InMemoryJournal(), transport: jetStream(connection), sealer: PassThroughSealer(),
            configuration: config,
            heartbeat: { status in
                OutgoingMessage(
                    subject: "test.manager.node1.heartbeat", headers: [],
                    payload: Array("{\"depth\":\(status.outboxDepth)}".utf8))
            }, logger: logger)
        var beats: [NATSMessage] = []
        try await withRunningWorker(worker) {
            beats = await collect(subscription, count: 2)
        }
        #expect(beats.count == 2)
        #expect(beats.allSatisfy { $0.payloadBytes == Array("{\"depth\":0}".utf8) })
        await listener.close()
        await connection.close()
    }
}

/// Passes messages through unchanged (``PassThroughSealer``) and counts them: a message is sealed
/// right before it is sent.
final class CountingSealer: DeliverySealer {
    private let count = Atomic<Int>(0)

    var sealed: Int { count.load(ordering: .relaxed) }

    func seal(_ message: OutboxMessage) throws -> OutgoingMessage {
        count.add(1, ordering: .relaxed)
        return try PassThroughSealer().seal(message)
    }
}
