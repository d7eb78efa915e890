import Foundation
import Logging
import NATSClient
import NATSTestSupport
import NIOCore
import Testing
import WireContract

@testable import Gateway
@testable import GatewayCommands

/// `subscribe --stream --follow` and `--from-seq`, against a real nats-server with JetStream.
struct SubscribeFollowTests {
    private static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func store(
        _ fixture: CommandFixture, agent: Int, tampered: Bool = false, in context: JetStreamContext
    ) async throws {
        try await fixture.storeStatusEvent(agent: agent, tampered: tampered, in: context)
    }

    private func follower(
        _ configuration: GatewayConfiguration, _ options: SubscriberRun.Options, on connection: NATSConnection,
        lines: LineCollector
    ) throws -> Task<SubscriberRun.Report, any Error> {
        let subscriber = try SubscriberRun(configuration: configuration, options: options, logger: Self.quiet)
        return Task { try await subscriber.run(on: connection, output: lines.append) }
    }

    /// Waits until the stream's consumer has delivered everything and holds a pull request open on
    /// the server: the follower is quiet, waiting for the next message.
    private func waitUntilQuiet(_ connection: NATSConnection, stream: String) async throws {
        let context = connection.jetStream()
        try await eventually("a quiet follower") {
            let reply = try await connection.request(subject: "$JS.API.CONSUMER.NAMES.\(stream)", timeout: .seconds(2))
            let object = try JSONSerialization.jsonObject(with: Data(reply.payloadBytes)) as? [String: Any]
            for name in (object?["consumers"] as? [String]) ?? [] {
                let info = try await context.consumerInfo(stream: stream, name: name)
                if info.numWaiting > 0 && info.numPending == 0 && info.numAckPending == 0 { return true }
            }
            return false
        }
    }

    @Test func followPrintsMessagesStoredAfterItStarted() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()
            try await self.store(fixture, agent: 1, in: context)
            try await self.store(fixture, agent: 2, in: context)

            let lines = LineCollector()
            let task = try self.follower(
                configuration,
                .init(
                    count: 5, timeout: .seconds(20), fromStream: true, follow: true, pollInterval: .milliseconds(100)),
                on: connection, lines: lines)
            try await eventually("the stored messages") { lines.lines.count == 2 }
            for agent in 3...5 {
                // The follower has gone quiet in between: caught up, its pull request waiting on the server.
                try await self.waitUntilQuiet(connection, stream: configuration.nats.stream)
                try await self.store(fixture, agent: agent, in: context)
            }
            let report = try await task.value
            #expect(report.received == 5 && report.verified == 5 && report.failed == 0 && report.reachedCount)
            #expect(lines.objects.map { $0["stream_seq"] as? Int } == [1, 2, 3, 4, 5])
            #expect(
                lines.objects.map { ($0["message"] as? [String: Any])?["agent_id"] as? String } == [
                    "001", "002", "003", "004", "005",
                ])
            await connection.close()
        }
    }

    @Test func aTamperedMessageIsReportedAndFollowingGoesOn() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()

            let lines = LineCollector()
            let task = try self.follower(
                configuration,
                .init(
                    count: 3, timeout: .seconds(20), fromStream: true, follow: true, pollInterval: .milliseconds(100)),
                on: connection, lines: lines)
            try await self.store(fixture, agent: 1, in: context)
            try await eventually("the first message") { lines.lines.count == 1 }
            try await self.store(fixture, agent: 2, tampered: true, in: context)
            try await eventually("the tampered message") { lines.lines.count == 2 }
            try await self.store(fixture, agent: 3, in: context)

            let report = try await task.value
            #expect(report.received == 3 && report.verified == 2 && report.failed == 1)
            #expect(report.reachedCount && !report.stoppedOnFailure)
            let objects = lines.objects
            #expect(objects.map { $0["verified"] as? Bool } == [true, false, true])
            #expect((objects[1]["error"] as? String)?.contains("signature") == true)
            #expect(objects.map { $0["stream_seq"] as? Int } == [1, 2, 3])
            await connection.close()
        }
    }

    @Test func cancellingAFollowerEndsItPromptlyWithItsReport() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            try await self.store(fixture, agent: 1, in: connection.jetStream())

            let lines = LineCollector()
            // No count, no timeout and the default (longest) pause: only cancellation ends it.
            let task = try self.follower(
                configuration, .init(fromStream: true, follow: true), on: connection, lines: lines)
            try await eventually("the stored message") { lines.lines.count == 1 }
            try await self.waitUntilQuiet(connection, stream: configuration.nats.stream)  // following a quiet stream
            let cancelled = ContinuousClock.now
            task.cancel()
            let report = try await task.value
            #expect(ContinuousClock.now - cancelled < .milliseconds(500))
            #expect(report.received == 1 && report.verified == 1 && !report.reachedCount)
            await connection.close()
        }
    }

    @Test func followingSurvivesAServerRestart() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            try await self.store(fixture, agent: 1, in: connection.jetStream())

            let lines = LineCollector()
            let logs = LogCapture()
            var subscriber = try SubscriberRun(
                configuration: configuration,
                options: .init(
                    count: 2, timeout: .seconds(30), fromStream: true, follow: true, pollInterval: .milliseconds(100)),
                logger: logs.logger(level: .warning))
            subscriber.requestTimeout = .milliseconds(500)
            let task = Task { [subscriber] in try await subscriber.run(on: connection, output: lines.append) }
            try await eventually("the stored message") { lines.lines.count == 1 }
            // Requests fail while the server is down and after; the follower keeps retrying.
            await server.stop()
            try await eventually("a failed look at the stream") { logs.contains("reading the stream failed") }
            try await server.start()
            // The connection is still reconnecting for a while: store again until the server takes it.
            try await eventually("the second message stored", timeout: .seconds(15), poll: .milliseconds(100)) {
                (try? await self.store(fixture, agent: 2, in: connection.jetStream(timeout: .milliseconds(500)))) != nil
            }
            let report = try await task.value
            #expect(report.received == 2 && report.verified == 2 && report.reachedCount)
            #expect(lines.objects.map { $0["stream_seq"] as? Int } == [1, 2])
            #expect(logs.contains("reading the stream again"))
            await connection.close()
        }
    }

    @Test func fromSequenceStartsThereAndWithoutFollowStopsAtTheEnd() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            let configuration = try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()
            for agent in 1...5 { try await self.store(fixture, agent: agent, in: context) }

            func sequences(_ options: SubscriberRun.Options) async throws -> [Int] {
                let lines = LineCollector()
                let report = try await SubscriberRun(configuration: configuration, options: options, logger: Self.quiet)
                    .run(on: connection, output: lines.append)
                #expect(report.failed == 0)
                return lines.objects.compactMap { $0["stream_seq"] as? Int }
            }
            #expect(try await sequences(.init(fromStream: true, fromSequence: 3)) == [3, 4, 5])
            #expect(try await sequences(.init(fromStream: true, fromSequence: 1)) == [1, 2, 3, 4, 5])
            #expect(try await sequences(.init(fromStream: true, fromSequence: 9)) == [])
            #expect(
                try await sequences(.init(subject: "wazuh.agent.004.status", fromStream: true, fromSequence: 2)) == [4])
            await connection.close()
        }
    }

    @Test func subscribeFollowCommandPrintsNewMessagesAndExitsZeroOnSIGINT() async throws {
        let fixture = try CommandFixture()
        try await CommandFixture.withJetStream { server, connection in
            try fixture.writeConfiguration(natsURL: server.url)
            let context = connection.jetStream()
            try await self.store(fixture, agent: 1, in: context)
            try await self.store(fixture, agent: 2, in: context)

            let command = try RunningExecutable([
                "subscribe", "--config", fixture.configPath, "--stream", "--follow", "--from-seq", "2",
            ])
            try await eventually("the stored message") { command.output.contains("\"stream_seq\":2") }
            try await self.store(fixture, agent: 3, in: context)
            try await eventually("the new message") { command.output.contains("\"stream_seq\":3") }
            let interrupted = ContinuousClock.now
            let status = try await command.interrupt()
            #expect(ContinuousClock.now - interrupted < .seconds(2))
            #expect(status == 0, "output: \(command.output)")
            #expect(!command.output.contains("\"stream_seq\":1"))
            #expect(command.output.contains("subscribe: 2 received, 2 verified, 0 failed"), "output: \(command.output)")
            await connection.close()
        }
    }

    @Test func followAndFromSeqNeedTheStream() async throws {
        let fixture = try CommandFixture()
        try fixture.writeConfiguration()
        for extra in [["--follow"], ["--from-seq", "3"], ["--since", "10m"], ["--durable", "soc"]] {
            let (status, output) = try await BuiltExecutable.run(
                ["subscribe", "--config", fixture.configPath] + extra, timeout: .seconds(15))
            #expect(status == 1)
            #expect(output.contains("add --stream"), "output: \(output)")
        }
    }
}
