import Foundation
import ReliabilityChecker
import Testing
import WazuhSimulator
import WazuhSource

@testable import Gateway
@testable import GatewayCommands

struct SimulateTests {
    @Test(arguments: ["4.14", "4.8", "4.2", "5.x"])
    func simulateWritesADatabaseTheSourceReaderAccepts(version: String) async throws {
        let fixture = try CommandFixture()
        let path = fixture.directory + "/global.db"
        let run = SimulateRun(
            databasePath: path, agents: 25, schema: try SimulateRun.parseVersion(version),
            scenario: .restartStorm, seed: 7, commitIdle: .milliseconds(50), commitMaxAge: .milliseconds(200),
            duration: .milliseconds(400))
        let report = try await run.run()
        #expect(report.agents == 25)
        #expect(report.commits >= 1)
        let read = try GlobalDatabaseReader(path: path).read()
        #expect(read.snapshot.count == 25)
        #expect(read.snapshot.agentIDs == Array(1...25))
        // The restart storm at the start disconnected the active and pending agents (90 % of the fleet);
        // they return over a minute.
        #expect(report.statusCounts["disconnected", default: 0] >= 15)
        #expect(SimulateRun.summaryLine(report, path: path).contains("25 agents"))
    }

    @Test func simulateWritesAGroundTruthLogThatEndsWhereTheDatabaseEnds() async throws {
        let fixture = try CommandFixture()
        let path = fixture.directory + "/global.db"
        let truth = fixture.directory + "/truth.jsonl"
        let run = SimulateRun(
            databasePath: path, agents: 25, scenario: .churn, seed: 5, commitIdle: .milliseconds(30),
            commitMaxAge: .milliseconds(100), duration: .milliseconds(600), groundTruthPath: truth)
        let report = try await run.run()
        let log = try GroundTruthLog.read(path: truth)
        #expect(log.filter { $0.kind == .initial }.count == 25)
        var states: [Int: String] = [:]
        for transition in log {
            if transition.kind != .initial {
                #expect(states[transition.agentID, default: "Unknown"] == transition.previous)
            }
            states[transition.agentID] = transition.current
        }
        let final = try FinalStatuses.read(databasePath: path)
        #expect(states.filter { $0.value != "Unknown" } == final)
        #expect(final.count == report.agents)
    }

    @Test func simulateStopsWhenCancelledAndKeepsWhatItWrote() async throws {
        let fixture = try CommandFixture()
        let path = fixture.directory + "/global.db"
        let run = SimulateRun(databasePath: path, agents: 10, scenario: .churn, commitIdle: .milliseconds(50))
        let task = Task { try await run.run() }
        // Cancel once the simulator has committed its fleet (a read sees every agent).
        let written = try await waitUntil(timeout: .seconds(30)) {
            (try? GlobalDatabaseReader(path: path).read().snapshot.count) == 10
        }
        #expect(written)
        task.cancel()
        let report = try await task.value
        #expect(report.agents == (try GlobalDatabaseReader(path: path).read()).snapshot.count)
    }

    @Test func badArgumentsAreRefusedWithTheirName() {
        #expect(throws: OperatorCommandError.self) { try SimulateRun.parseVersion("3.13") }
        #expect(throws: OperatorCommandError.self) { try SimulateRun.parseScenario("storm") }
        #expect(throws: OperatorCommandError.self) { try SimulateRun.parseDuration("10", option: "--duration") }
        #expect((try? SimulateRun.parseScenario("restart-storm")) == .restartStorm)
        #expect((try? SimulateRun.parseVersion("5.x")) == .wazuh5)
    }

    @Test func simulateCommandCreatesTheDatabaseAndSummarises() async throws {
        let fixture = try CommandFixture()
        let path = fixture.directory + "/cli-global.db"
        let (status, output) = try await BuiltExecutable.run(
            [
                "simulate", "--db", path, "--agents", "12", "--version", "4.8", "--scenario", "churn", "--seed", "3",
                "--commit-idle", "100ms", "--commit-max", "500ms", "--duration", "500ms",
            ], timeout: .seconds(15))
        #expect(status == 0, "output: \(output)")
        let read = try GlobalDatabaseReader(path: path).read()
        #expect(output.contains("simulated \(path): \(read.snapshot.count) agents"))
        let (bad, message) = try await BuiltExecutable.run(
            ["simulate", "--db", path, "--version", "3.0"], timeout: .seconds(15))
        #expect(bad == 1)
        #expect(message.contains("--version"))
    }

    @Test func simulateHelpListsEveryScenario() async throws {
        let (status, output) = try await BuiltExecutable.run(["simulate", "--help"], timeout: .seconds(15))
        #expect(status == 0)
        let help = output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(
            help.contains(
                "steady, restart-storm, churn, flapping, keepalive, mass-disconnect, hand-stop, reregister, planned-shutdown or silent."
            ),
            "help: \(output)")
        for scenario in SimulatorScenario.allCases {
            #expect(SimulateRun.scenarioNames.contains(scenario.rawValue))
        }
    }
}
