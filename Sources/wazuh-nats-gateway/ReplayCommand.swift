import ArgumentParser
import Foundation
import Gateway
import GatewayCommands
import Outbox

/// `replay`: re-publishes journaled messages to their original subjects.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Re-publish journaled events from the outbox to their original subjects.",
        discussion: """
            Selects delivered messages by default (--include-undelivered adds pending and parked ones). \
            Each copy is sealed as the gateway seals it (the journaled signature; compression and \
            encryption per the configuration) and carries Nats-Msg-Id "<original id>:replay:<replay id>": \
            JetStream keeps the copies next to the originals, and within one replay id a resend is stored \
            once (repeat a run with --replay-id to complete it without duplicates). Exit status 1 if \
            any message was not acknowledged.
            """
    )

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "Journaled at or after: RFC 3339 time or a duration ago (2h, 30m).")
    var since: String?

    @Option(name: .long, help: "Journaled before: RFC 3339 time or a duration ago.")
    var until: String?

    @Option(name: .long, help: "Agent id (001 or 1); repeatable.")
    var agent: [String] = []

    @Option(name: .customLong("from-seq"), help: "First outbox sequence number (inclusive).")
    var fromSeq: Int64?

    @Option(name: .customLong("to-seq"), help: "Last outbox sequence number (inclusive).")
    var toSeq: Int64?

    @Option(name: .long, help: "Message kind: event, secondary or batch; repeatable.")
    var kind: [String] = []

    @Flag(name: .customLong("include-undelivered"), help: "Also replay messages not yet acknowledged.")
    var includeUndelivered = false

    @Option(name: .customLong("replay-id"), help: "Replay id (default: new and unique per run).")
    var replayID: String?

    @Flag(
        name: .customLong("dry-run"),
        help: "Print what would be sent (seq, subject, message id, created); connect to nothing.")
    var dryRun = false

    func run() async throws {
        do {
            let environment = ProcessInfo.processInfo.environment
            let configuration = try SubscriberConnection.loadConfiguration(path: self.config, environment: environment)
            let now = OutboxStore.wallClockMilliseconds()
            var selection = ReplaySelection(includeUndelivered: self.includeUndelivered)
            selection.since = try self.since.map { text throws(OperatorCommandError) in
                try ReplaySelection.parseTime(text, now: now)
            }
            selection.until = try self.until.map { text throws(OperatorCommandError) in
                try ReplaySelection.parseTime(text, now: now)
            }
            selection.agents = try self.agent.map { text throws(OperatorCommandError) in
                try ReplaySelection.parseAgent(text)
            }
            selection.fromSeq = self.fromSeq
            selection.toSeq = self.toSeq
            if !self.kind.isEmpty {
                selection.kinds = Set(
                    try self.kind.map { text throws(OperatorCommandError) in try ReplaySelection.parseKind(text) })
            }
            let replayID = self.replayID ?? ReplayRun.makeReplayID()
            try ReplayRun.validateReplayID(replayID)
            let replay = ReplayRun(
                configuration: configuration, selection: selection, replayID: replayID,
                logger: OperatorCommandSupport.logger("replay"))
            if self.dryRun {
                try await replay.dryRun(output: CommandInterruption.printLine)
                return
            }
            let report = try await replay.run()
            for line in ReplayRun.summaryLines(report) { CommandInterruption.printLine(line) }
            if report.failed > 0 {
                throw ExitCode.failure
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw OperatorCommandSupport.fail("replay", error)
        }
    }
}
