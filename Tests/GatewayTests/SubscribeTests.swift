import Foundation
import Logging
import NATSClient
import NATSTestSupport
import NIOCore
import Testing
import WireContract

@testable import Gateway
@testable import GatewayCommands

struct SubscribeTests {
    /// Publishes a sealed message over core NATS.
    private func publish(_ sealed: SealedMessage, over connection: NATSConnection) async throws {
        var headers = NATSHeaders()
        for (name, value) in sealed.headers { headers.append(name: name, value: value) }
        try await connection.publish(
            subject: sealed.subject, headers: headers, payload: ByteBuffer(bytes: sealed.payload))
    }

    /// Starts a subscriber for `count` messages in the background; returns once it is subscribed.
    private func startSubscriber(
        _ configuration: GatewayConfiguration, count: Int, strict: Bool = false, lines: LineCollector
    ) async throws -> Task<SubscriberRun.Report, any Error> {
        let subscriber = try SubscriberRun(
            configuration: configuration,
            options: SubscriberRun.Options(count: count, timeout: .seconds(10), strict: strict),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let connection = try await SubscriberConnection.connect(
            configuration, clientName: "test", logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        let (subscribed, continuation) = AsyncStream<Void>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            let report = try await subscriber.run(
                on: connection, output: lines.append, onSubscribed: { continuation.finish() })
            await connection.close()
            return report
        }
        for await _ in subscribed {}
        return task
    }

    private func batch(_ fixture: CommandFixture, events count: Int) throws -> BatchStatusUpdate {
        let events = try (1...count).map {
            try fixture.event(agent: $0, serial: $0, name: String(repeating: "n", count: 40))
        }
        return BatchStatusUpdate(
            batchID: BatchStatusUpdate.makeBatchID(time: 1_716_897_300, eventIDs: events.map(\.eventID)),
            managerNode: "node01", timestamp: "2024-05-28T12:00:00Z", events: events,
            summary: BatchSummary(
                fleet: FleetCounts(
                    totalAgents: count, activeAgents: 0, disconnectedAgents: count, pendingAgents: 0,
                    neverConnectedAgents: 0), changesDetected: count)
        ).signed(with: try fixture.signingKey())
    }

    @Test func plainCompressedAndEncryptedMessagesVerify() async throws {
        let fixture = try CommandFixture()
        try await withNATSServer { server in
            let configuration = try fixture.writeConfiguration(natsURL: server.url, encrypt: true)
            let lines = LineCollector()
            let task = try await self.startSubscriber(configuration, count: 4, lines: lines)

            let publisher = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
            let event = try fixture.event(agent: 7, serial: 1)
            let batch = try self.batch(fixture, events: 20)
            let plain = MessageSealer(compressionMinBytes: 1 << 20)
            let compressing = MessageSealer(compressionMinBytes: 100)
            let encrypting = MessageSealer(compressionMinBytes: 100, encryptionKey: try fixture.encryptionKey())
            let compressedBatch = try compressing.seal(
                subject: "wazuh.security.agent_events", signedPayload: batch.canonicalJSON(), messageID: batch.messageID
            )
            #expect(compressedBatch.header("Content-Encoding") == "lz4")
            try await self.publish(
                try plain.seal(subject: "wazuh.agent.007.status", signedPayload: event.canonicalJSON(), messageID: "a"),
                over: publisher)
            try await self.publish(compressedBatch, over: publisher)
            try await self.publish(
                try encrypting.seal(
                    subject: "wazuh.agent.007.disconnected", signedPayload: event.canonicalJSON(), messageID: "b"),
                over: publisher)
            try await self.publish(
                try encrypting.seal(
                    subject: "wazuh.security.agent_events", signedPayload: batch.canonicalJSON(), messageID: "c"),
                over: publisher)
            try await publisher.flush()

            let report = try await task.value
            await publisher.close()
            #expect(report.received == 4 && report.verified == 4 && report.failed == 0 && report.reachedCount)
            #expect(report.eventsByChannel == ["status": 1, "disconnected": 1] && report.batches == 2)
            let objects = lines.objects
            #expect(objects.count == 4)
            #expect(
                objects.map { $0["subject"] as? String } == [
                    "wazuh.agent.007.status", "wazuh.security.agent_events", "wazuh.agent.007.disconnected",
                    "wazuh.security.agent_events",
                ])
            #expect(objects.allSatisfy { $0["verified"] as? Bool == true })
            let message = try #require(objects.first?["message"] as? [String: Any])
            #expect(message["event_id"] as? String == event.eventID)
            #expect(message["signature"] as? String == event.signature)
            let batchMessage = try #require(objects[1]["message"] as? [String: Any])
            #expect((batchMessage["events"] as? [Any])?.count == 20)
        }
    }

    @Test func wrongKeysTamperingAndGarbageAreReportedAsFailures() async throws {
        let fixture = try CommandFixture()
        try await withNATSServer { server in
            let configuration = try fixture.writeConfiguration(natsURL: server.url, encrypt: true)
            let lines = LineCollector()
            let task = try await self.startSubscriber(configuration, count: 5, lines: lines)

            let publisher = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
            let sealer = MessageSealer()
            // Signed with another key.
            let foreign = try fixture.event(agent: 1, serial: 1).signed(
                with: try SigningKey(bytes: Array(repeating: 7, count: 32)))
            try await self.publish(
                try sealer.seal(
                    subject: "wazuh.agent.001.status", signedPayload: foreign.canonicalJSON(), messageID: "1"),
                over: publisher)
            // Tampered after signing: the status changed, the signature kept.
            var tampered = try fixture.event(agent: 2, serial: 2)
            tampered.currentStatus = "Active"
            try await self.publish(
                try sealer.seal(
                    subject: "wazuh.agent.002.status", signedPayload: tampered.canonicalJSON(), messageID: "2"),
                over: publisher)
            // Encrypted with another key.
            let wrongCipher = MessageSealer(encryptionKey: try EncryptionKey(bytes: Array(repeating: 1, count: 32)))
            try await self.publish(
                try wrongCipher.seal(
                    subject: "wazuh.agent.003.status",
                    signedPayload: try fixture.event(agent: 3, serial: 3).canonicalJSON(),
                    messageID: "3"),
                over: publisher)
            // Garbage.
            try await publisher.publish(subject: "wazuh.agent.004.status", bytes: Array("not json at all".utf8))
            // And one good message, still verified after the failures.
            try await self.publish(
                try sealer.seal(
                    subject: "wazuh.agent.005.status",
                    signedPayload: try fixture.event(agent: 5, serial: 5).canonicalJSON(),
                    messageID: "5"),
                over: publisher)
            try await publisher.flush()

            let report = try await task.value
            await publisher.close()
            #expect(report.received == 5 && report.failed == 4 && report.verified == 1)
            let objects = lines.objects
            #expect(objects.map { $0["verified"] as? Bool } == [false, false, false, false, true])
            let errors = objects.prefix(4).map { $0["error"] as? String ?? "" }
            #expect(errors[0].contains("signature"))
            #expect(errors[1].contains("signature"))
            #expect(errors[2].lowercased().contains("decrypt"))
            #expect(errors[3].lowercased().contains("json"))
            #expect(objects.prefix(4).allSatisfy { $0["message"] == nil })
        }
    }

    @Test func strictStopsAtTheFirstFailure() async throws {
        let fixture = try CommandFixture()
        try await withNATSServer { server in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let lines = LineCollector()
            let task = try await self.startSubscriber(configuration, count: 10, strict: true, lines: lines)

            let publisher = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
            try await self.publish(
                try MessageSealer().seal(
                    subject: "wazuh.agent.001.status",
                    signedPayload: try fixture.event(agent: 1, serial: 1).canonicalJSON(),
                    messageID: "1"),
                over: publisher)
            try await publisher.publish(subject: "wazuh.agent.002.status", bytes: Array("{}".utf8))
            try await self.publish(
                try MessageSealer().seal(
                    subject: "wazuh.agent.003.status",
                    signedPayload: try fixture.event(agent: 3, serial: 3).canonicalJSON(),
                    messageID: "3"),
                over: publisher)
            try await publisher.flush()

            let report = try await task.value
            await publisher.close()
            #expect(report.stoppedOnFailure && !report.reachedCount)
            #expect(report.received == 2 && report.verified == 1 && report.failed == 1)
            #expect(lines.lines.count == 2)
        }
    }

    @Test func strictSubscribeCommandExitsNonZeroOnAFailedVerification() async throws {
        let fixture = try CommandFixture()
        try await withNATSServer { server in
            try fixture.writeConfiguration(natsURL: server.url)
            let publisher = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))

            // Garbage is published until the command (which subscribes at some point) exits.
            let (status, output) = try await BuiltExecutable.run(
                ["subscribe", "--config", fixture.configPath, "--strict", "--timeout", "15s"], timeout: .seconds(20)
            ) {
                try await publisher.publish(subject: "wazuh.agent.009.status", bytes: Array("garbage".utf8))
            }
            await publisher.close()
            #expect(status == 1, "output: \(output)")
            #expect(output.contains("\"verified\":false"))

            // Without --strict and without --count, the timeout ends it with status 0.
            let (relaxed, _) = try await BuiltExecutable.run(
                ["subscribe", "--config", fixture.configPath, "--timeout", "1s"], timeout: .seconds(15))
            #expect(relaxed == 0)
        }
    }

    @Test func subjectFiltersFollowNATSWildcards() {
        #expect(SubscriberRun.subject("wazuh.agent.001.status", matches: "wazuh.>"))
        #expect(SubscriberRun.subject("wazuh.agent.001.status", matches: "wazuh.agent.*.status"))
        #expect(!SubscriberRun.subject("wazuh.agent.001.connected", matches: "wazuh.agent.*.status"))
        #expect(!SubscriberRun.subject("wazuh", matches: "wazuh.>"))
        #expect(!SubscriberRun.subject("wazuh.agent.001", matches: "wazuh.agent.*.status"))
        #expect(SubscriberRun.subject("wazuh.security.agent_events", matches: "wazuh.security.agent_events"))
    }
}
