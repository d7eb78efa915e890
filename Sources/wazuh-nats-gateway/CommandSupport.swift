import ArgumentParser
import Gateway
import GatewayCommands
import Logging

/// Shared by the operator subcommands: a stderr logger and error reporting.
enum OperatorCommandSupport {
    /// A human-readable logger on standard error (the global logging system is not bootstrapped).
    static func logger(_ label: String, level: Logger.Level = .warning) -> Logger {
        Logger(label: label) { name in TextLogHandler(label: name, level: level) }
    }

    /// Prints `error` as `<command>: <message>` on standard error and exits with status 1.
    static func fail(_ command: String, _ error: any Error) -> ExitCode {
        CommandInterruption.printError("\(command): \(error)")
        return ExitCode.failure
    }
}
