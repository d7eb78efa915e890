import ArgumentParser
import Foundation
import Gateway
import Logging

/// `run --config FILE`: the daemon. Logs go to standard error; SIGTERM/SIGINT drain and exit 0,
/// a second signal exits at once (143/130); a configuration that does not load exits 1.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway daemon: watch global.db, journal changes, deliver them to NATS.",
        discussion: """
            The configuration file comes from --config or, when absent, from WAZUH_NATS_GATEWAY_CONFIG. \
            SIGTERM or SIGINT stops detection and drains the outbox within delivery.shutdown_timeout, then \
            exits 0; a second signal exits at once. Undelivered events stay journaled for the next start.
            """
    )

    @Option(
        name: .long, help: "Path of the YAML configuration file (default: $WAZUH_NATS_GATEWAY_CONFIG).")
    var config: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard
            let path = DaemonStartup.configurationPath(argument: self.config, environment: environment)
        else {
            throw ValidationError("give --config FILE or set \(DaemonStartup.configPathVariable)")
        }
        let loaded: (configuration: GatewayConfiguration, warnings: [ConfigurationError])
        do {
            loaded = try DaemonStartup.loadConfiguration(path: path, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("run: invalid configuration \(path):\n\(error)\n".utf8))
            throw ExitCode(DaemonStartup.exitFailure)
        }
        let globals = DaemonStartup.bootstrapProcessGlobals(configuration: loaded.configuration)
        let logger = Logger(label: "wazuh-nats-gateway")
        for warning in loaded.warnings {
            logger.warning(
                "source not available yet; the daemon retries", metadata: ["problem": "\(warning)"])
        }
        let escalation = SignalEscalation(logger: logger)
        escalation.start()
        let daemon = GatewayDaemon(
            configuration: loaded.configuration, registry: globals.registry,
            metricsFactory: globals.factory,
            options: .init(configurationPath: path, handleSignals: true), logger: logger)
        do {
            try await daemon.run()
        } catch {
            logger.critical("gateway stopped with an error", metadata: ["error": "\(error)"])
            throw ExitCode(DaemonStartup.exitFailure)
        }
        escalation.stop()
    }
}
