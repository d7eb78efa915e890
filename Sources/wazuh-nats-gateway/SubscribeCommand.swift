import ArgumentParser
import Foundation
import Gateway
import GatewayCommands

/// `subscribe`: the sample consumer; prints every message verified, or why it is not.
struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Receive, decrypt, decompress and verify messages; print one JSON object per line.",
        discussion: """
            Connects with the configuration's NATS settings and keys. Each line: \
            {"subject":..,"verified":true,"kind":..,"message":{..}} or {"subject":..,"verified":false,"error":..}. \
            Live by default; --stream reads the JetStream stream through a pull consumer from its first message \
            (or --from-seq, or --since) to its last, and with --follow keeps printing messages as they are \
            stored until Ctrl-C, --count or --timeout; a message that fails verification is reported and \
            following goes on. With --durable NAME the consumer is durable: each message is acknowledged once \
            verified and printed, and the next run with the same name resumes after it. Exit status: 0 \
            normally (Ctrl-C included); 1 with --strict at the first message that fails verification, or \
            when --count was not reached within --timeout.
            """
    )

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    @Option(name: .long, help: "Subject filter (default: <prefix>.>).")
    var subject: String?

    @Option(name: .long, help: "Stop after this many messages.")
    var count: Int?

    @Option(name: .long, help: "Stop after this long (e.g. 30s).")
    var timeout: String?

    @Flag(name: .long, help: "Exit with status 1 at the first message that fails verification.")
    var strict = false

    @Flag(name: .long, help: "Read the JetStream stream from its first message instead of subscribing live.")
    var stream = false

    @Flag(name: .long, help: "With --stream: after the last message, wait for new ones (like tail -f).")
    var follow = false

    @Option(name: .customLong("from-seq"), help: "With --stream: start at this stream sequence.")
    var fromSeq: UInt64?

    @Option(
        name: .long,
        help: "With --stream: start at the first message stored since this RFC 3339 time or this long ago (10m).")
    var since: String?

    @Option(
        name: .long,
        help: "With --stream: read through the durable consumer NAME and resume where its last run left off.")
    var durable: String?

    func run() async throws {
        do {
            let configuration = try SubscriberConnection.loadConfiguration(
                path: self.config, environment: ProcessInfo.processInfo.environment)
            if let count, count < 1 {
                throw OperatorCommandError(.invalidArgument, "--count must be at least 1")
            }
            if !self.stream && (self.follow || self.fromSeq != nil || self.since != nil || self.durable != nil) {
                // A live subscription follows anyway; these only make sense for the stream.
                throw OperatorCommandError(
                    .invalidArgument,
                    "--follow, --from-seq, --since and --durable read the JetStream stream: add --stream")
            }
            if self.fromSeq != nil && self.since != nil {
                throw OperatorCommandError(.invalidArgument, "--from-seq and --since both say where to start")
            }
            if let fromSeq, fromSeq < 1 {
                throw OperatorCommandError(.invalidArgument, "--from-seq must be at least 1")
            }
            let options = SubscriberRun.Options(
                subject: self.subject, count: self.count,
                timeout: try self.timeout.map { text throws(OperatorCommandError) in
                    try SimulateRun.parseDuration(text, option: "--timeout")
                },
                strict: self.strict, fromStream: self.stream, follow: self.follow, fromSequence: self.fromSeq,
                since: try self.since.map { text throws(OperatorCommandError) in
                    try SubscriberArguments.parseSince(text)
                },
                durable: try self.durable.map { name throws(OperatorCommandError) in
                    try SubscriberArguments.checkDurableName(name)
                },
                format: .json)
            let logger = OperatorCommandSupport.logger("subscribe")
            let report = try await CommandInterruption.cancellingOnSignals {
                try await SubscriberRun.run(
                    configuration: configuration, options: options, logger: logger,
                    output: CommandInterruption.printLine)
            }
            CommandInterruption.printError(
                "subscribe: \(report.received) received, \(report.verified) verified, \(report.failed) failed")
            if report.stoppedOnFailure || (self.count != nil && !report.reachedCount && self.timeout != nil) {
                throw ExitCode.failure
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw OperatorCommandSupport.fail("subscribe", error)
        }
    }
}
