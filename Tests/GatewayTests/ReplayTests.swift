import Foundation
import Logging
import NATSClient
import NATSTestSupport
import Outbox
import Testing
import WireContract

@testable import Gateway
@testable import GatewayCommands

struct ReplayTests {
    /// The seq column of a dry run's message lines.
    private func seqs(_ lines: [String]) -> [Int64] {
        lines.filter { !$0.hasPrefix("#") }.compactMap { Int64($0.split(separator: "\t").first ?? "") }
    }

    private func dryRunLines(_ replay: ReplayRun) async throws -> [String] {
        var lines: [String] = []
        try await replay.dryRun { lines.append($0) }
        return lines
    }

    @Test func dryRunListsExactlyTheMessagesSelectedByTimeAgentAndSequence() async throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        let start = fixture.now
        // seq 1…6 for agents 1, 2, 3, 1, 2, 3, one minute apart.
        let messages = try fixture.journal(agents: [1, 2, 3, 1, 2, 3])
        #expect(messages.map(\.seq) == [1, 2, 3, 4, 5, 6])
        try fixture.markDelivered([1, 2, 3, 4, 5])

        func dryRun(_ selection: ReplaySelection) async throws -> [Int64] {
            try await self.seqs(
                self.dryRunLines(ReplayRun(configuration: configuration, selection: selection, replayID: "t1")))
        }
        // Delivered only by default: seq 6 is still pending.
        #expect(try await dryRun(ReplaySelection()) == [1, 2, 3, 4, 5])
        #expect(try await dryRun(ReplaySelection(includeUndelivered: true)) == [1, 2, 3, 4, 5, 6])
        // Time: [start + 1 min, start + 3 min) holds seq 2 and 3.
        #expect(try await dryRun(ReplaySelection(since: start + 60_000, until: start + 180_000)) == [2, 3])
        // Agents, repeatable, in journal order.
        #expect(try await dryRun(ReplaySelection(agents: ["001", "003"], includeUndelivered: true)) == [1, 3, 4, 6])
        // Sequence range, inclusive.
        #expect(try await dryRun(ReplaySelection(fromSeq: 2, toSeq: 4)) == [2, 3, 4])
        // Combined.
        #expect(try await dryRun(ReplaySelection(agents: ["002"], fromSeq: 3)) == [5])
        // Kinds: there are no batches.
        #expect(try await dryRun(ReplaySelection(kinds: [.batch])) == [])

        let lines = try await self.dryRunLines(
            ReplayRun(configuration: configuration, selection: ReplaySelection(fromSeq: 1, toSeq: 1), replayID: "r-42"))
        #expect(lines.last == "# 1 message(s) would be replayed with replay id r-42")
        let fields = try #require(lines.first { !$0.hasPrefix("#") }).split(separator: "\t").map(String.init)
        #expect(fields[1] == "wazuh.agent.001.status")
        #expect(fields[2] == messages[0].messageID + ":replay:r-42")
        #expect(fields[3] == OutboxInspection.timestamp(milliseconds: start))
    }

    @Test func selectionsSpanningSeveralPagesListEveryMessageOnce() async throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        try fixture.journalBulk(count: ReplayRun.pageSize * 2 + 50, agents: 7)
        func dryRun(_ selection: ReplaySelection) async throws -> [Int64] {
            try await self.seqs(
                self.dryRunLines(ReplayRun(configuration: configuration, selection: selection, replayID: "p")))
        }
        let all = try await dryRun(ReplaySelection(includeUndelivered: true))
        #expect(all == Array(1...Int64(ReplayRun.pageSize * 2 + 50)))
        let boundary = Int64(ReplayRun.pageSize)
        #expect(
            try await dryRun(ReplaySelection(fromSeq: boundary - 5, toSeq: boundary + 5, includeUndelivered: true))
                == Array((boundary - 5)...(boundary + 5)))
        // Agents 2 and 5 of 7: seq ≡ 2 or 5 (mod 7), across every page.
        let picked = try await dryRun(ReplaySelection(agents: ["002", "005"], includeUndelivered: true))
        #expect(picked == all.filter { $0 % 7 == 2 || $0 % 7 == 5 })
    }

    @Test func timesParseAsRFC3339OrAsADurationAgo() throws {
        let now: Int64 = 1_764_400_000_000
        #expect(try ReplaySelection.parseTime("2h", now: now) == now - 7_200_000)
        #expect(try ReplaySelection.parseTime("90s", now: now) == now - 90_000)
        #expect(try ReplaySelection.parseTime("2024-05-28T12:00:00Z", now: now) == 1_716_897_600_000)
        #expect(try ReplaySelection.parseTime("2024-05-28T12:00:00.250Z", now: now) == 1_716_897_600_250)
        #expect(try ReplaySelection.parseTime("2024-05-28T14:00:00+02:00", now: now) == 1_716_897_600_000)
        #expect(throws: OperatorCommandError.self) { try ReplaySelection.parseTime("yesterday", now: now) }
        #expect(throws: OperatorCommandError.self) { try ReplaySelection.parseTime("5", now: now) }
        #expect(try ReplaySelection.parseAgent("1") == "001")
        #expect(try ReplaySelection.parseAgent("0042") == "042")
        #expect(try ReplaySelection.parseAgent("1234") == "1234")
        #expect(throws: OperatorCommandError.self) { try ReplaySelection.parseAgent("web-01") }
        #expect(throws: OperatorCommandError.self) { try ReplayRun.validateReplayID("a b") }
        #expect(throws: OperatorCommandError.self) { try ReplayRun.validateReplayID("") }
        #expect(ReplayRun.makeReplayID() != ReplayRun.makeReplayID())
    }

    @Test func eachReplayAddsOneCopyPerMessageAndRepeatsOfAReplayAreDeduplicated() async throws {
        let fixture = try CommandFixture()
        let (server, connection) = try await CommandFixture.startJetStream()
        defer { Task { await server.stop() } }
        let configuration = try fixture.writeConfiguration(natsURL: server.url, encrypt: true, compressionMinBytes: 64)
        let messages = try fixture.journal(agents: [1, 2, 3, 4])
        try fixture.markDelivered(messages.map(\.seq))
        try await fixture.publishOriginals(
            messages, over: connection, sealer: try SubscriberConnection.sealer(configuration))
        let context = connection.jetStream()
        #expect(try await context.streamInfo(name: "WAZUH").state.messages == 4)

        let first = try await ReplayRun(configuration: configuration, selection: ReplaySelection(), replayID: "one")
            .run()
        #expect(first.selected == 4 && first.published == 4 && first.duplicates == 0 && first.failed == 0)
        let second = try await ReplayRun(configuration: configuration, selection: ReplaySelection(), replayID: "two")
            .run()
        #expect(second.published == 4 && second.failed == 0)
        #expect(try await context.streamInfo(name: "WAZUH").state.messages == 12)

        // Running replay "one" again (a resend within that replay) stores nothing new.
        let again = try await ReplayRun(configuration: configuration, selection: ReplaySelection(), replayID: "one")
            .run()
        #expect(again.published == 0 && again.duplicates == 4 && again.failed == 0)
        #expect(try await context.streamInfo(name: "WAZUH").state.messages == 12)

        // Every copy the server stored is in the audit chain (kind `replay`); the duplicates are not.
        let store = try fixture.openOutbox()
        let audited = try store.auditRecords(afterSequence: 0, limit: 100).filter { $0.kind == .replay }
        #expect(
            audited.map(\.messageID)
                == messages.map { $0.messageID + ":replay:one" } + messages.map { $0.messageID + ":replay:two" })
        #expect(audited.map(\.streamSequence) == (5...12).map { UInt64($0) })
        #expect(audited.map(\.outboxSeq) == messages.map(\.seq) + messages.map(\.seq))
        #expect(try store.verifyAudit().isIntact)
        try store.close()

        // The originals are untouched, every copy carries its replay id, and everything still verifies.
        var idsBySequence: [UInt64: String] = [:]
        for sequence in UInt64(1)...12 {
            let stored = try await context.getMessage(stream: "WAZUH", sequence: sequence)
            idsBySequence[sequence] = stored.headers?["Nats-Msg-Id"]
        }
        #expect((1...4).map { idsBySequence[UInt64($0)] } == messages.map(\.messageID))
        #expect((5...8).map { idsBySequence[UInt64($0)] } == messages.map { $0.messageID + ":replay:one" })
        #expect((9...12).map { idsBySequence[UInt64($0)] } == messages.map { $0.messageID + ":replay:two" })

        let lines = LineCollector()
        let report = try await SubscriberRun(
            configuration: configuration, options: SubscriberRun.Options(timeout: .seconds(10), fromStream: true),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        ).run(on: connection, output: lines.append)
        #expect(report.received == 12 && report.verified == 12 && report.failed == 0)
        #expect(lines.objects.allSatisfy { $0["verified"] as? Bool == true })
        await connection.close()
    }

    @Test func replayPublishesOnlyTheSelectedRangeToTheOriginalSubjects() async throws {
        let fixture = try CommandFixture()
        let (server, connection) = try await CommandFixture.startJetStream()
        defer { Task { await server.stop() } }
        let configuration = try fixture.writeConfiguration(natsURL: server.url)
        let messages = try fixture.journal(agents: [5, 6, 7, 5])
        try fixture.markDelivered(messages.map(\.seq))

        let report = try await ReplayRun(
            configuration: configuration, selection: ReplaySelection(agents: ["005"]), replayID: "agent5"
        ).run()
        #expect(report.selected == 2 && report.published == 2)
        let context = connection.jetStream()
        #expect(try await context.streamInfo(name: "WAZUH").state.messages == 2)
        for sequence in UInt64(1)...2 {
            let stored = try await context.getMessage(stream: "WAZUH", sequence: sequence)
            #expect(stored.subject == "wazuh.agent.005.status")
        }
        await connection.close()
    }

    @Test func replayFailsWhenTheServerDoesNotAcknowledge() async throws {
        let fixture = try CommandFixture()
        // A server without the stream: JetStream publishes get no responders.
        let server = try NATSServerProcess(jetStream: true)
        try await server.start()
        defer { Task { await server.stop() } }
        let configuration = try fixture.writeConfiguration(natsURL: server.url)
        let messages = try fixture.journal(agents: [1, 2])
        try fixture.markDelivered(messages.map(\.seq))

        let report = try await ReplayRun(configuration: configuration, selection: ReplaySelection(), attempts: 2).run()
        #expect(report.selected == 2 && report.published == 0 && report.failed == 2)
        #expect(report.failures.count == 2)
        #expect(ReplayRun.summaryLines(report).first?.contains("failed 2") == true)
    }

    @Test(arguments: ["request", "publish"])
    func replayInCoreNATSModesReachesSubscribersWithReplayIDs(mode: String) async throws {
        let fixture = try CommandFixture()
        let server = try NATSServerProcess()
        try await server.start()
        defer { Task { await server.stop() } }
        let configuration = try fixture.writeConfiguration(natsURL: server.url, delivery: mode)
        let messages = try fixture.journal(agents: [1, 2, 3])
        try fixture.markDelivered(messages.map(\.seq))

        // A responder that answers every request and records what it saw.
        let responder = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
        let subscription = try await responder.subscribe(subject: "wazuh.>")
        try await responder.flush()
        let seen = Task {
            var ids: [String] = []
            for await message in subscription {
                ids.append(message.headers?["Nats-Msg-Id"] ?? "")
                if let reply = message.replyTo {
                    try await responder.publish(subject: reply, bytes: Array("ok".utf8))
                }
                if ids.count == messages.count { break }
            }
            return ids
        }
        let report = try await ReplayRun(configuration: configuration, selection: ReplaySelection(), replayID: "core")
            .run()
        #expect(report.published == 3 && report.failed == 0)
        let timeout = Task {
            try await Task.sleep(for: .seconds(5))
            seen.cancel()
        }
        let ids = try await seen.value
        timeout.cancel()
        #expect(ids == messages.map { $0.messageID + ":replay:core" })
        await responder.close()
    }

    @Test func replayCommandDryRunParsesItsSelection() async throws {
        let fixture = try CommandFixture()
        try fixture.writeConfiguration()
        let messages = try fixture.journal(agents: [1, 2, 1], spacing: 1000)
        try fixture.markDelivered(messages.map(\.seq))
        let (status, output) = try await BuiltExecutable.run(
            [
                "replay", "--config", fixture.configPath, "--dry-run", "--since", "2h", "--agent", "1", "--kind",
                "event", "--replay-id", "cli",
            ], timeout: .seconds(15))
        #expect(status == 0, "output: \(output)")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(self.seqs(lines) == [1, 3])
        #expect(
            lines.contains {
                $0.hasSuffix(
                    "\(messages[0].messageID):replay:cli\t"
                        + OutboxInspection.timestamp(milliseconds: messages[0].createdAt))
            })
        let (bad, message) = try await BuiltExecutable.run(
            ["replay", "--config", fixture.configPath, "--dry-run", "--since", "last tuesday"], timeout: .seconds(15))
        #expect(bad == 1)
        #expect(message.contains("RFC 3339"))
    }
}
