import Foundation
import Testing
import WazuhSimulator
import WazuhSource

/// The monitor counts the changes it saw through wazuh-db's socket while global.db provably lacked
/// them (no commit since the previous socket read), and only those.
@Suite struct SourceFreshnessTests {
    @Test func changesSeenBeforeTheFileHadThemAreCountedAndOnlyThose() async throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 30, initiallyActive: 1)
        try simulator.commit()
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        let monitor = SourceSwitchingTests.monitor(directory)
        let observed = SourceSwitchingTests.Observed()
        let consumer = SourceSwitchingTests.consume(monitor, into: observed)
        defer { consumer.cancel() }
        try await SourceSwitchingTests.waitFor(observed, [:], "the baseline")
        // Written, not committed: the socket shows it, the file cannot.
        simulator.now = baseTime + 10
        try simulator.apply(.stop(agentID: 3))
        try simulator.apply(.stop(agentID: 4))
        try await SourceSwitchingTests.waitFor(observed, [3: .disconnected, 4: .disconnected], "two stops")
        #expect(monitor.health.changesSeenBeforeFile == 2)
        // Committed before the socket could see it (the server answers nothing meanwhile): not counted.
        server.setReplyDelay(.seconds(1))
        let queries = server.requests
        try await eventually("a delayed query", timeout: .seconds(30), poll: .milliseconds(5)) {
            server.requests != queries
        }
        try simulator.apply(.stop(agentID: 5))
        try simulator.commit()
        server.setReplyDelay(.zero)
        try await SourceSwitchingTests.waitFor(observed, [5: .disconnected], "a committed stop")
        #expect(monitor.health.changesSeenBeforeFile == 2)
        #expect(monitor.activeSource == .wazuhDB)
    }
}
