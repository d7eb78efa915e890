import Foundation
import Logging
import NATSClient
import NATSTestSupport
import NIOCore
import Testing
import WireContract

@testable import Gateway
@testable import GatewayCommands

extension CommandFixture {
    /// Stores a status event for `agent` in the stream as the gateway publishes it.
    func storeStatusEvent(agent: Int, tampered: Bool = false, in context: JetStreamContext) async throws {
        var event = try self.event(agent: agent, serial: agent)
        if tampered { event.currentStatus = "Active" }  // changed after signing
        let sealed = try MessageSealer().seal(
            subject: "wazuh.agent.\(event.agentID).status", signedPayload: event.canonicalJSON(),
            messageID: event.eventID)
        var headers = NATSHeaders()
        for (name, value) in sealed.headers where name != WireHeaders.messageID {
            headers.append(name: name, value: value)
        }
        _ = try await context.publish(
            subject: sealed.subject, payload: ByteBuffer(bytes: sealed.payload), headers: headers,
            messageID: event.eventID)
    }
}

/// `subscribe --stream` through JetStream consumers: `--durable` resumes, redelivery, `--since`.
@Suite(.timeLimit(.minutes(3)))
struct SubscribeConsumerTests {
    private static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func read(
        _ configuration: GatewayConfiguration, _ options: SubscriberRun.Options, on connection: NATSConnection
    ) async throws -> (SubscriberRun.Report, [Int]) {
        let lines = LineCollector()
        let report = try await SubscriberRun(configuration: configuration, options: options, logger: Self.quiet)
            .run(on: connection, output: lines.append)
        return (report, lines.objects.compactMap { $0["stream_seq"] as? Int })
    }

    @Test func aDurableSubscriberResumesAfterTheLastMessageItAcknowledged() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()
            for agent in 1...5 { try await fixture.storeStatusEvent(agent: agent, in: context) }

            let first = try await self.read(
                configuration, .init(count: 3, fromStream: true, durable: "soc"), on: connection)
            #expect(first.1 == [1, 2, 3] && first.0.verified == 3 && first.0.reachedCount)
            // Each run is a new subscriber on its own connection, as after a restart of the process.
            let second = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
            let resumed = try await self.read(configuration, .init(fromStream: true, durable: "soc"), on: second)
            #expect(resumed.1 == [4, 5] && resumed.0.failed == 0)
            for agent in 6...7 { try await fixture.storeStatusEvent(agent: agent, in: context) }
            // --from-seq only applies when the consumer is created: the durable one keeps its place.
            let third = try await self.read(
                configuration, .init(fromStream: true, fromSequence: 1, durable: "soc"), on: second)
            #expect(third.1 == [6, 7])
            let info = try await context.consumerInfo(stream: "WAZUH", name: "soc")
            #expect(info.ackFloor.streamSeq == 7 && info.numAckPending == 0 && info.numPending == 0)
            // An ephemeral reader still sees everything, and leaves no consumer behind.
            #expect(try await self.read(configuration, .init(fromStream: true), on: second).1 == Array(1...7))
            await second.close()
            await connection.close()
        }
    }

    @Test func aMessageReceivedButNotAcknowledgedIsReadAgainByTheNextRun() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()
            for agent in 1...3 { try await fixture.storeStatusEvent(agent: agent, in: context) }
            // A subscriber that died after receiving message 1 and before acknowledging it.
            _ = try await context.createConsumer(
                stream: "WAZUH", config: ConsumerConfig(durableName: "crashy", ackWait: .milliseconds(500)))
            let lost = try await context.fetch(stream: "WAZUH", consumer: "crashy", PullRequest(batch: 1, noWait: true))
            #expect(lost.map(\.metadata.streamSequence) == [1])

            let (report, sequences) = try await self.read(
                configuration,
                .init(count: 3, timeout: .seconds(30), fromStream: true, follow: true, durable: "crashy"),
                on: connection)
            #expect(report.reachedCount && report.verified == 3)
            #expect(Set(sequences) == [1, 2, 3], "message 1 comes again once its ack wait passed: \(sequences)")
            let info = try await context.consumerInfo(stream: "WAZUH", name: "crashy")
            #expect(info.numAckPending == 0 && info.ackFloor.streamSeq == 3)
            await connection.close()
        }
    }

    @Test func aDurableFollowerResumesAcrossAServerRestart() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            try await fixture.storeStatusEvent(agent: 1, in: connection.jetStream())

            let lines = LineCollector()
            var subscriber = try SubscriberRun(
                configuration: configuration,
                options: .init(
                    count: 3, timeout: .seconds(60), fromStream: true, follow: true, durable: "night",
                    pollInterval: .milliseconds(100)),
                logger: Self.quiet)
            subscriber.requestTimeout = .milliseconds(500)
            let task = Task { [subscriber] in try await subscriber.run(on: connection, output: lines.append) }
            try await eventually("the stored message") { lines.lines.count == 1 }
            let events = connection.stateChanges
            try await server.restart()
            try await eventually("the reconnect", timeout: .seconds(20)) {
                for await event in events where event == .reconnected { return true }
                return false
            }
            try await eventually("storing after the restart", timeout: .seconds(20), poll: .milliseconds(100)) {
                do {
                    try await fixture.storeStatusEvent(agent: 2, in: connection.jetStream(timeout: .milliseconds(500)))
                    return true
                } catch {
                    return false  // JetStream still recovering its store
                }
            }
            try await fixture.storeStatusEvent(agent: 3, in: connection.jetStream())
            let report = try await task.value
            #expect(report.reachedCount && report.verified == 3)
            #expect(lines.objects.map { $0["stream_seq"] as? Int } == [1, 2, 3])
            let info = try await connection.jetStream().consumerInfo(stream: "WAZUH", name: "night")
            #expect(info.ackFloor.streamSeq == 3)
            await connection.close()
        }
    }

    @Test func sinceStartsAtTheFirstMessageStoredAtOrAfterThatTime() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()
            for agent in 1...4 { try await fixture.storeStatusEvent(agent: agent, in: context) }
            // Between the times the server stored messages 2 and 3, as a consumer reports them.
            _ = try await context.createConsumer(
                stream: "WAZUH", config: ConsumerConfig(durableName: "probe", deliverPolicy: .byStartSequence(2)))
            let stored = try await context.fetch(
                stream: "WAZUH", consumer: "probe", PullRequest(batch: 2, noWait: true))
            #expect(stored.map(\.metadata.streamSequence) == [2, 3])
            let between = (stored[0].metadata.timestampNanoseconds + stored[1].metadata.timestampNanoseconds) / 2
            let since = Date(timeIntervalSince1970: Double(between) / 1e9)
            let (_, sequences) = try await self.read(
                configuration, .init(fromStream: true, since: since), on: connection)
            #expect(sequences == [3, 4])
            let (_, none) = try await self.read(
                configuration, .init(fromStream: true, since: Date().addingTimeInterval(3600)), on: connection)
            #expect(none.isEmpty)
            await connection.close()
        }
    }

    @Test func sinceAndDurableArgumentsAreChecked() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try SubscriberArguments.parseSince("10m", now: now) == now.addingTimeInterval(-600))
        let utc = try #require(ISO8601DateFormatter().date(from: "2027-01-15T08:00:00Z"))
        #expect(try SubscriberArguments.parseSince("2027-01-15T08:00:00Z", now: now) == utc)
        #expect(
            try SubscriberArguments.parseSince("2027-01-15T09:00:00.500+01:00", now: now).timeIntervalSince1970
                == utc.timeIntervalSince1970 + 0.5)
        for bad in ["yesterday", "", "-5m", "2027-13-45T00:00:00Z", "0s"] {
            #expect(throws: OperatorCommandError.self) { try SubscriberArguments.parseSince(bad, now: now) }
        }
        #expect(try SubscriberArguments.checkDurableName("soc-reader_1") == "soc-reader_1")
        for bad in ["", "a.b", "a b", "x*", String(repeating: "n", count: 65)] {
            #expect(throws: OperatorCommandError.self) { try SubscriberArguments.checkDurableName(bad) }
        }
    }
}

/// ``StreamConsumerPlan``: which consumer, from where, and when a run is done, without a server.
struct StreamConsumerPlanTests {
    private func metadata(_ sequence: UInt64, pending: UInt64) -> JetStreamMessageMetadata {
        JetStreamMessageMetadata(
            stream: "WAZUH", consumer: "c", deliveryCount: 1, streamSequence: sequence, consumerSequence: sequence,
            timestampNanoseconds: 0, pending: pending)
    }

    @Test func anEphemeralConsumerStartsWhereAskedAndAgainAfterTheLastHandled() {
        var plan = StreamConsumerPlan(
            durableName: nil, fromSequence: 7, since: nil, filterSubject: "wazuh.agent.*.status", follow: true,
            streamLastSequence: 10)
        #expect(plan.consumerConfig.deliverPolicy == .byStartSequence(7))
        #expect(plan.consumerConfig.ackPolicy == .none && plan.consumerConfig.durableName == nil)
        #expect(plan.consumerConfig.filterSubject == "wazuh.agent.*.status")
        let followerDone = plan.handled(self.metadata(8, pending: 0))
        #expect(!followerDone, "a follower is never done")
        #expect(plan.consumerConfig.deliverPolicy == .byStartSequence(9))
        let grown = plan.streamLastSequence(12)
        let wentBack = plan.streamLastSequence(3)
        #expect(!grown && wentBack, "the stream went back: re-created")
        #expect(plan.consumerConfig.deliverPolicy == .byStartSequence(7))
        let since = Date(timeIntervalSince1970: 1_800_000_000)
        let fromTime = StreamConsumerPlan(
            durableName: nil, fromSequence: nil, since: since, filterSubject: nil, follow: false,
            streamLastSequence: 10)
        #expect(fromTime.consumerConfig.deliverPolicy == .byStartTime(since))
    }

    @Test func aDurableConsumerAcknowledgesExplicitlyAndKeepsItsStart() {
        var plan = StreamConsumerPlan(
            durableName: "soc", fromSequence: nil, since: nil, filterSubject: nil, follow: true,
            streamLastSequence: 0)
        _ = plan.handled(self.metadata(4, pending: 2))
        let config = plan.consumerConfig
        #expect(config.durableName == "soc" && config.ackPolicy == .explicit && config.deliverPolicy == .all)
        #expect(config.ackWait == StreamConsumerPlan.durableAckWait && config.inactiveThreshold == nil)
    }

    @Test func withoutFollowReadingEndsAtTheLastMessageStoredWhenItBegan() {
        var plan = StreamConsumerPlan(
            durableName: nil, fromSequence: nil, since: nil, filterSubject: nil, follow: false,
            streamLastSequence: 5)
        #expect(plan.isDone(consumerPending: 0) && !plan.isDone(consumerPending: 3))
        var filtered = plan
        let before = plan.handled(self.metadata(4, pending: 3))
        let atEnd = plan.handled(self.metadata(5, pending: 2))
        #expect(!before && atEnd, "messages stored after reading began are left")
        let nothingLeft = filtered.handled(self.metadata(2, pending: 0))
        #expect(nothingLeft, "nothing matching left")
        let follower = StreamConsumerPlan(
            durableName: nil, fromSequence: nil, since: nil, filterSubject: nil, follow: true, streamLastSequence: 5)
        #expect(!follower.isDone(consumerPending: 0))
    }
}
