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
    /// Where to serve wazuh-db's socket (answering read-only commands from the open transaction);
    /// `nil`: no socket.
    public var socketPath: String?
    /// Where to write the ground-truth log of committed transitions (JSON lines); `nil`: none.
    public var groundTruthPath: String?
    /// Also serve the simulated Wazuh REST API over HTTPS on this port (0: a free one), from the same
    /// fleet, its CA written as `api-ca.pem` beside the database; `nil`: no API.
    public var apiPort: Int?
    /// The API's login (Wazuh's dashboard user `wazuh-wui` unless set).
    public var apiUser = "wazuh-wui"
    public var apiPassword = "wazuh-wui"
    /// Requests per minute the simulated API answers before 429 (the real API's default).
    public var apiRequestsPerMinute = 300
    public var logger: Logger

    public init(
        databasePath: String, agents: Int = 100, schema: SimulatedSchema = .wazuh4(minor: 14),
        scenario: SimulatorScenario = .steady, seed: UInt64 = 1, commitIdle: Duration = .seconds(10),
        commitMaxAge: Duration = .seconds(60), duration: Duration? = nil, socketPath: String? = nil,
        groundTruthPath: String? = nil,
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
        self.socketPath = socketPath
        self.groundTruthPath = groundTruthPath
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
        /// Requests the simulated REST API answered, and how many of them with 429 (nil: no API).
        public var apiRequests: Int?
        public var apiRateLimited: Int?
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
                    commitIdle: self.commitIdle, commitMaxAge: self.commitMaxAge,
                    groundTruthLogPath: self.groundTruthPath),
                logger: self.logger)
            let server = try self.socketPath.map { try simulator.serveWazuhDB(at: $0) }
            defer { server?.stop() }
            if let socketPath = self.socketPath {
                self.logger.info("serving wazuh-db's socket", metadata: ["wazuh.socket": "\(socketPath)"])
            }
            let api = try await self.startAPI(simulator)
            do {
                var report = try await self.simulate(simulator)
                await api?.stop()
                report.apiRequests = api?.requests
                report.apiRateLimited = api?.rateLimited
                try simulator.close()
                return report
            } catch {
                await api?.stop()
                throw error
            }
        } catch let error as OperatorCommandError {
            throw error
        } catch {
            throw OperatorCommandError(.processFailure, "simulating \(self.databasePath) failed: \(error)")
        }
    }

    /// Starts the simulated REST API when ``apiPort`` asks for it.
    private func startAPI(_ simulator: WazuhSimulator) async throws -> SimulatedAPIServer? {
        guard let apiPort else { return nil }
        guard (0...65_535).contains(apiPort) else {
            throw OperatorCommandError(.invalidArgument, "--api-port must be between 0 and 65535")
        }
        let directory = (self.databasePath as NSString).deletingLastPathComponent
        let api = try simulator.makeAPIServer(
            configuration: .init(
                port: apiPort, user: self.apiUser, password: self.apiPassword,
                requestsPerMinute: self.apiRequestsPerMinute, directory: directory.isEmpty ? "." : directory),
            logger: self.logger)
        let bound = try await api.start()
        self.logger.info(
            "serving the Wazuh REST API",
            metadata: ["wazuh.api.url": "https://localhost:\(bound)", "wazuh.api.ca": "\(api.caPath)"])
        return api
    }

    /// Runs the scenario until `duration` or cancellation; the closing counts.
    private func simulate(_ simulator: WazuhSimulator) async throws -> Report {
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
        return Report(agents: simulator.agentIDs.count, commits: simulator.commits, statusCounts: counts)
    }

    /// The default socket path for a database: `wdb` in the same directory (as `queue/db/wdb`).
    public static func defaultSocketPath(forDatabase path: String) -> String {
        (path as NSString).deletingLastPathComponent.isEmpty
            ? "wdb" : (path as NSString).deletingLastPathComponent + "/wdb"
    }

    /// The command's closing line.
    public static func summaryLine(_ report: Report, path: String) -> String {
        let statuses = report.statusCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        let api = report.apiRequests.map { ", \($0) API requests (\(report.apiRateLimited ?? 0) answered 429)" } ?? ""
        return "simulated \(path): \(report.agents) agents (\(statuses.joined(separator: ", "))), "
            + "\(report.commits) commits" + api
    }
}

extension SimulateRun {
    /// The environment variable that sets the simulated REST API's password.
    public static let apiPasswordVariable = "WAZUH_SIMULATOR_API_PASSWORD"

    /// The simulated REST API's password: the first line of `file`, else ``apiPasswordVariable``, else
    /// `wazuh-wui`.
    public static func apiPassword(file: String?, environment: [String: String]) throws(OperatorCommandError)
        -> String
    {
        guard let file else { return environment[apiPasswordVariable] ?? "wazuh-wui" }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw OperatorCommandError(.invalidArgument, "--api-password-file \(file) cannot be read")
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        guard !line.isEmpty else {
            throw OperatorCommandError(.invalidArgument, "--api-password-file \(file) has an empty first line")
        }
        return String(line)
    }
}
