import Foundation
import Testing
import WazuhSimulator
import WazuhSource

/// With `auto`, every way wazuh-db's socket fails ends with global.db read instead, the socket's
/// error kept in the health (and so in logs, metrics and `/readyz`), and no crash.
@Suite struct SocketFallbackTests {
    /// How the stand-in misbehaves, and the error the reader must name.
    enum Failure: String, CaseIterable, Sendable {
        case missing, slow, malformed, refusing, closing

        var expected: WazuhSourceError.Code {
            switch self {
            case .missing: .socketMissing
            case .slow: .socketTimeout
            case .malformed: .malformedReply
            case .refusing: .wazuhDBError
            case .closing: .socketUnavailable
            }
        }

        func standIn(_ path: String) throws -> ScriptedWazuhDB? {
            switch self {
            case .missing: nil
            case .slow: try ScriptedWazuhDB(path: path) { _ in [] }
            case .malformed: try ScriptedWazuhDB(path: path) { _ in ScriptedWazuhDB.frame("hello") }
            case .refusing: try ScriptedWazuhDB(path: path) { _ in ScriptedWazuhDB.frame("err database locked") }
            case .closing: try ScriptedWazuhDB(path: path) { _ in nil }
            }
        }
    }

    @Test(arguments: Failure.allCases)
    func autoReadsTheFileAndNamesTheSocketsError(_ failure: Failure) async throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 12, initiallyActive: 1)
        try simulator.commit()
        let standIn = try failure.standIn(directory.file("wdb"))
        defer { standIn?.stop() }
        let monitor = AgentStatusMonitor(
            configuration: .init(
                databasePath: directory.file("global.db"), pollInterval: .milliseconds(200), source: .auto,
                socketPath: directory.file("wdb"), socketPollInterval: .milliseconds(100),
                socketTimeout: .milliseconds(300)))
        let baseline = try await withDeadline(.seconds(60), "the baseline through the file") {
            try await monitor.nextUpdate(after: nil)
        }
        #expect(baseline.snapshot.count == 12)
        #expect(monitor.activeSource == .file)
        #expect(monitor.health.lastSocketError?.code == failure.expected, "\(failure)")
        simulator.now = baseTime + 20
        try simulator.apply(.stop(agentID: 2))
        try simulator.commit()
        let update = try await withDeadline(.seconds(60), "the stop through the file") {
            try await monitor.nextUpdate(after: baseline.snapshot)
        }
        #expect(update.changes.map(\.agentID) == [2])
        #expect(monitor.activeSource == .file)
    }
}
