import ArgumentParser
import Foundation
import Gateway
import GatewayCommands

/// `simulate`: a Wazuh manager simulator writing a realistic global.db.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a Wazuh manager: write a global.db the way wazuh-db does.",
        discussion: """
            Creates (replacing) the database with --agents agents of the given Wazuh --version, then \
            runs the --scenario in real time until --duration or Ctrl-C, committing like wazuh-db \
            (idle --commit-idle, at most --commit-max).
            """
    )

    @Option(name: .long, help: "Path of the global.db to create.")
    var db: String

    @Option(name: .long, help: "Number of agents.")
    var agents: Int = 100

    @Option(name: .long, help: "Wazuh version: 4.1 … 4.14, 5.x, 5-minimal.")
    var version: String = "4.14"

    @Option(name: .long, help: ArgumentHelp(SimulateRun.scenarioNames + "."))
    var scenario: String = "steady"

    @Option(name: .long, help: "Random seed (same seed, same run).")
    var seed: UInt64 = 1

    @Option(name: .customLong("commit-idle"), help: "Commit after this long without writes (wazuh-db: 10s).")
    var commitIdle: String = "10s"

    @Option(name: .customLong("commit-max"), help: "Commit a transaction at the latest at this age (wazuh-db: 60s).")
    var commitMax: String = "60s"

    @Option(name: .long, help: "Stop after this long (default: until Ctrl-C).")
    var duration: String?

    func run() async throws {
        do {
            let simulation = SimulateRun(
                databasePath: self.db, agents: self.agents, schema: try SimulateRun.parseVersion(self.version),
                scenario: try SimulateRun.parseScenario(self.scenario), seed: self.seed,
                commitIdle: try SimulateRun.parseDuration(self.commitIdle, option: "--commit-idle"),
                commitMaxAge: try SimulateRun.parseDuration(self.commitMax, option: "--commit-max"),
                duration: try self.duration.map { text throws(OperatorCommandError) in
                    try SimulateRun.parseDuration(text, option: "--duration")
                },
                logger: OperatorCommandSupport.logger("simulate", level: .info))
            let report = try await CommandInterruption.cancellingOnSignals { try await simulation.run() }
            CommandInterruption.printLine(SimulateRun.summaryLine(report, path: self.db))
        } catch {
            throw OperatorCommandSupport.fail("simulate", error)
        }
    }
}
