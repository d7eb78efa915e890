import ArgumentParser
import Foundation
import Gateway
import GatewayCommands

/// `demo`: simulator, nats-server, gateway and subscriber on one machine.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run everything on this machine: a simulated manager, nats-server, the gateway, the subscriber.",
        discussion: """
            Needs nats-server (apt-get install nats-server, or make deps). Keeps its keys, configuration, \
            database, outbox and logs in --state-dir. Stops after --duration or on Ctrl-C and prints a summary.
            """
    )

    @Option(name: .long, help: "Number of simulated agents.")
    var agents: Int = 20

    @Option(name: .long, help: "Stop after this long (default: until Ctrl-C).")
    var duration: String?

    @Option(name: .customLong("state-dir"), help: "Directory for keys, configuration, databases and logs.")
    var stateDir: String = "demo-state"

    @Option(
        name: .long,
        help: "Simulated managers: 1, or 2 (the second read through its Wazuh REST API, one gateway for both).")
    var managers: Int = 1

    @Flag(name: .long, help: "Print the subscriber's raw JSON lines instead of compact ones.")
    var json = false

    func run() async throws {
        do {
            var demo = DemoRun(
                stateDirectory: self.stateDir, agents: self.agents,
                duration: try self.duration.map { text throws(OperatorCommandError) in
                    try SimulateRun.parseDuration(text, option: "--duration")
                },
                gatewayExecutable: Self.ownExecutable(), format: self.json ? .json : .compact,
                logger: OperatorCommandSupport.logger("demo"))
            demo.managers = self.managers
            let configured = demo
            _ = try await CommandInterruption.cancellingOnSignals {
                try await configured.run(output: CommandInterruption.printLine, notice: CommandInterruption.printError)
            }
        } catch {
            throw OperatorCommandSupport.fail("demo", error)
        }
    }

    /// This program's path, for starting `run` as a child.
    static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
