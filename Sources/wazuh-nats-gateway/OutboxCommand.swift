import ArgumentParser
import Foundation
import Gateway
import GatewayCommands

/// `outbox stats|list`: read-only views of the journal.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Inspect the outbox journal.",
        subcommands: [OutboxStatsCommand.self, OutboxListCommand.self]
    )
}

/// `outbox stats --config FILE`.
struct OutboxStatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Pending, delivered and parked counts, oldest pending age, database size, snapshot age."
    )

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    func run() async throws {
        do {
            let configuration = try SubscriberConnection.loadConfiguration(
                path: self.config, environment: ProcessInfo.processInfo.environment)
            for line in try OutboxInspection.statsLines(configuration) { CommandInterruption.printLine(line) }
        } catch {
            throw OperatorCommandSupport.fail("outbox stats", error)
        }
    }
}

/// `outbox list --config FILE [--pending|--parked|--delivered] [--agent A] [--limit N] [--json] [--payload]`.
struct OutboxListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One line per journaled message, in journal order (--json: one JSON object per line)."
    )

    enum State: String, EnumerableFlag {
        case pending, parked, delivered
    }

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    @Flag(help: "Only messages in this state (default: all).")
    var state: State?

    @Option(name: .long, help: "Agent id (001 or 1); repeatable.")
    var agent: [String] = []

    @Option(name: .long, help: "At most this many messages.")
    var limit: Int = 100

    @Flag(name: .long, help: "One JSON object per line.")
    var json = false

    @Flag(name: .long, help: "Include the signed JSON payload.")
    var payload = false

    func run() async throws {
        do {
            let configuration = try SubscriberConnection.loadConfiguration(
                path: self.config, environment: ProcessInfo.processInfo.environment)
            var selection = ReplaySelection(includeUndelivered: true)
            selection.agents = try self.agent.map { text throws(OperatorCommandError) in
                try ReplaySelection.parseAgent(text)
            }
            let filter: OutboxInspection.StateFilter =
                switch self.state {
                case .pending: .pending
                case .parked: .parked
                case .delivered: .delivered
                case nil: .all
                }
            let options = OutboxInspection.ListOptions(
                state: filter, selection: selection, limit: self.limit, json: self.json, includePayload: self.payload)
            for line in try OutboxInspection.listLines(configuration, options: options) {
                CommandInterruption.printLine(line)
            }
        } catch {
            throw OperatorCommandSupport.fail("outbox list", error)
        }
    }
}
