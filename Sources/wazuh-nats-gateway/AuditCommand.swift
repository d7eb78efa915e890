import ArgumentParser
import Foundation
import Gateway
import GatewayCommands
import Outbox

/// `audit verify|export`: the tamper-evident log of acknowledged messages.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check or export the hash-chained audit log of acknowledged messages.",
        subcommands: [AuditVerifyCommand.self, AuditExportCommand.self]
    )
}

/// `audit verify --config FILE`: exit 0 when the chain holds, 1 at the first break.
struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit chain from its anchor to its head; report the first break and exit 1."
    )

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    func run() async throws {
        let report: AuditInspection.Report
        do {
            let configuration = try SubscriberConnection.loadConfiguration(
                path: self.config, environment: ProcessInfo.processInfo.environment)
            report = try AuditInspection.verify(configuration)
        } catch {
            throw OperatorCommandSupport.fail("audit verify", error)
        }
        for line in report.lines { CommandInterruption.printLine(line) }
        if !report.verification.isIntact {
            CommandInterruption.printError("audit verify: the audit chain is broken")
            throw ExitCode.failure
        }
    }
}

/// `audit export --config FILE [--since T] [--until T]`: JSON lines on standard output.
struct AuditExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write audit records as JSON lines, in sequence order."
    )

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "Only records from this time: RFC 3339 or a duration ago (2h).")
    var since: String?

    @Option(name: .long, help: "Only records before this time: RFC 3339 or a duration ago.")
    var until: String?

    func run() async throws {
        do {
            let configuration = try SubscriberConnection.loadConfiguration(
                path: self.config, environment: ProcessInfo.processInfo.environment)
            let now = OutboxStore.wallClockMilliseconds()
            let since = try self.since.map { text throws(OperatorCommandError) in
                try ReplaySelection.parseTime(text, now: now)
            }
            let until = try self.until.map { text throws(OperatorCommandError) in
                try ReplaySelection.parseTime(text, now: now)
            }
            try AuditInspection.export(configuration, since: since, until: until) { line in
                CommandInterruption.printLine(line)
            }
        } catch {
            throw OperatorCommandSupport.fail("audit export", error)
        }
    }
}
