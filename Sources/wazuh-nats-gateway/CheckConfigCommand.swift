import ArgumentParser
import Foundation
import Gateway
import GatewayCommands

/// `check-config --config FILE`: validates everything `run` would and prints the effective
/// configuration with secrets redacted; exits 1 listing every problem.
struct CheckConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate a configuration file (YAML, keys, files, permissions) and print it with secrets redacted.",
        discussion: """
            Environment overrides (WAZUH_NATS_GATEWAY_<SECTION>_<KEY>, e.g. WAZUH_NATS_GATEWAY_NATS_URL) \
            are applied exactly as `run` applies them. Exit status: 0 valid, 1 invalid.
            """
    )

    @Option(name: .long, help: "Path of the YAML configuration file.")
    var config: String

    func run() async throws {
        let outcome = ConfigurationCheck.run(configPath: self.config, environment: ProcessInfo.processInfo.environment)
        FileHandle.standardOutput.write(Data(outcome.standardOutput.utf8))
        FileHandle.standardError.write(Data(outcome.standardError.utf8))
        if outcome.exitCode != ConfigurationCheck.exitSuccess {
            throw ExitCode(outcome.exitCode)
        }
    }
}
