import Foundation
import Gateway
import Logging
import WazuhSimulator

/// The `simulate` command's logic: a thin front over ``WazuhSimulator``.
///
/// Creates (replacing) a global.db of the chosen Wazuh version with N agents, then runs a scenario in
/// real time — committing the way wazuh-db does — until `duration` passes or the task is cancelled
/// (Ctrl-C), and commits what is open before returning.
public struct SimulateRun: Sendable {
    public var databasePath: String
    public var agents: Int
    public var schema: SimulatedSchema
    public var scenario: SimulatorScenario
    public var seed: UInt64
    public var commitIdle: Duration
    public var commitMaxAge: Duration
    /// `nil` runs until cancelled.
    public var duration: Duration?
    public var logger: Logger

    public init(
        databasePath: String, agents: Int = 100, schema: SimulatedSchema = .wazuh4(minor: 14),
        scenario: SimulatorScenario = .steady, seed: UInt64 = 1, commitIdle: Duration = .seconds(10),
        commitMaxAge: Duration = .seconds(60), duration: Duration? = nil,
        logger: Logger = Logger(label: "simulate", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.databasePath = databasePath
        self.agents = agents
        self.schema = schema
        self.scenario = scenario
        self.seed = seed
        self.commitIdle = commitIdle
        self.commitMaxAge = commitMaxAge
        self.duration = duration
        self.logger = logger
    }

    /// Parses `--version`: `4.1` … `4.14`, `5`, `5.0`, `5.x`, `5-minimal`.
    public static func parseVersion(_ text: String) throws(OperatorCommandError) -> SimulatedSchema {
        guard let schema = SimulatedSchema(versionString: text) else {
            throw OperatorCommandError(
                .invalidArgument, "--version \(text.debugDescription) is not one of 4.1 … 4.14, 5.x, 5-minimal")
        }
        return schema
    }

    /// Parses `--scenario`.
    public static func parseScenario(_ text: String) throws(OperatorCommandError) -> SimulatorScenario {
        guard let scenario = SimulatorScenario(rawValue: text) else {
            throw OperatorCommandError(
                .invalidArgument, "--scenario \(text.debugDescription) is not one of \(self.scenarioNames)")
        }
        return scenario
    }

    /// Every scenario's name, for help texts: `steady, restart-storm, …, flapping or keepalive`.
    public static var scenarioNames: String {
        let names = SimulatorScenario.allCases.map(\.rawValue)
        guard names.count > 1 else { return names.joined() }
        return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
    }

    /// Parses a duration argument (`500ms`, `10s`, `5m`).
    public static func parseDuration(_ text: String, option: String) throws(OperatorCommandError) -> Duration {
        guard let duration = ConfigurationUnits.parseDuration(text) else {
            throw OperatorCommandError(
                .invalidArgument, "\(option) \(text.debugDescription) is not a duration like 500ms, 10s, 5m")
        }
        return duration
    }

    /// What a run did.
    public struct Report: Sendable, Hashable {
        public var agents: Int
        public var commits: Int
        /// Agents by written connection status at the end.
        public var statusCounts: [String: Int]
    }

    /// Creates the database and simulates until `duration` or cancellation.
    public func run() async throws(OperatorCommandError) -> Report {
        guard self.agents >= 0, self.agents <= 1_000_000 else {
            throw OperatorCommandError(.invalidArgument, "--agents must be between 0 and 1000000")
        }
        do {
            let simulator = try WazuhSimulator(
                configuration: WazuhSimulator.Configuration(
                    databasePath: self.databasePath, schema: self.schema, agentCount: self.agents, seed: self.seed,
                    commitIdle: self.commitIdle, commitMaxAge: self.commitMaxAge),
                logger: self.logger)
            self.logger.info(
                "simulated manager created",
                metadata: [
                    "wazuh.path": "\(self.databasePath)", "simulator.version": "\(self.schema)",
                    "simulator.agents": "\(self.agents)", "simulator.scenario": "\(self.scenario.rawValue)",
                ])
            let clock = ContinuousClock()
            let deadline = self.duration.map { clock.now + $0 } ?? clock.now + .seconds(100 * 365 * 86_400)
            try await simulator.run(self.scenario, until: deadline)
            var counts: [String: Int] = [:]
            for id in simulator.agentIDs {
                counts[simulator.status(of: id) ?? "unknown", default: 0] += 1
            }
            let report = Report(agents: simulator.agentIDs.count, commits: simulator.commits, statusCounts: counts)
            try simulator.close()
            return report
        } catch let error as OperatorCommandError {
            throw error
        } catch {
            throw OperatorCommandError(.processFailure, "simulating \(self.databasePath) failed: \(error)")
        }
    }

    /// The command's closing line.
    public static func summaryLine(_ report: Report, path: String) -> String {
        let statuses = report.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "simulated \(path): \(report.agents) agents (\(statuses.joined(separator: ", "))), "
            + "\(report.commits) commits"
    }
}
