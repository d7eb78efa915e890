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
            (idle --commit-idle, at most --commit-max). Serves wazuh-db's socket beside the database \
            (`wdb` in its directory, or --socket), answering read-only commands from the open \
            transaction, so the gateway's socket source sees changes before they are committed. With \
            --api-port it also serves the Wazuh REST API over HTTPS (login, JWT, paging, rate limit) \
            from the same fleet, its CA written as api-ca.pem beside the database.
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

    @Option(name: .long, help: "Path of the wazuh-db socket to serve (default: wdb beside --db).")
    var socket: String?

    @Flag(name: .customLong("no-socket"), help: "Do not serve wazuh-db's socket.")
    var noSocket = false

    @Option(
        name: .customLong("api-port"),
        help:
            "Also serve the Wazuh REST API over HTTPS on this port, from the same fleet (CA written as api-ca.pem beside --db)."
    )
    var apiPort: Int?

    @Option(name: .customLong("api-user"), help: "The REST API's user.")
    var apiUser: String = "wazuh-wui"

    @Option(
        name: .customLong("api-password-file"),
        help: "File whose first line is the REST API's password (default: wazuh-wui, or WAZUH_SIMULATOR_API_PASSWORD).")
    var apiPasswordFile: String?

    @Option(name: .customLong("api-requests-per-minute"), help: "Requests per minute the REST API answers before 429.")
    var apiRequestsPerMinute: Int = 300

    @Option(
        name: .customLong("ground-truth"),
        help: "Also write every committed transition to this file (JSON lines), for reliability checks.")
    var groundTruth: String?

    func run() async throws {
        do {
            var simulation = SimulateRun(
                databasePath: self.db, agents: self.agents, schema: try SimulateRun.parseVersion(self.version),
                scenario: try SimulateRun.parseScenario(self.scenario), seed: self.seed,
                commitIdle: try SimulateRun.parseDuration(self.commitIdle, option: "--commit-idle"),
                commitMaxAge: try SimulateRun.parseDuration(self.commitMax, option: "--commit-max"),
                duration: try self.duration.map { text throws(OperatorCommandError) in
                    try SimulateRun.parseDuration(text, option: "--duration")
                },
                socketPath: self.noSocket ? nil : (self.socket ?? SimulateRun.defaultSocketPath(forDatabase: self.db)),
                groundTruthPath: self.groundTruth,
                logger: OperatorCommandSupport.logger("simulate", level: .info))
            simulation.apiPort = self.apiPort
            simulation.apiUser = self.apiUser
            simulation.apiPassword = try SimulateRun.apiPassword(
                file: self.apiPasswordFile, environment: ProcessInfo.processInfo.environment)
            simulation.apiRequestsPerMinute = self.apiRequestsPerMinute
            let configured = simulation
            let report = try await CommandInterruption.cancellingOnSignals { try await configured.run() }
            CommandInterruption.printLine(SimulateRun.summaryLine(report, path: self.db))
        } catch {
            throw OperatorCommandSupport.fail("simulate", error)
        }
    }
}
