import Foundation
import Testing
import Timekeeping
import WazuhAPISource
import WazuhSimulator
import WazuhSource

/// The API monitor keeps ``AgentStatusMonitor``'s contract against the simulator's real API.
@Suite struct WazuhAPIMonitorTests {
    @Test func baselineThenTheTransitionThenTheSameChangesAgainWhenNotPersisted() async throws {
        try await SimulatedAPIFixture.run(agents: 20) { simulator, server in
            let monitor = try WazuhAPIMonitor(
                configuration: .init(
                    url: server.url, credentials: .init(user: "gateway", password: SimulatedAPIFixture.password),
                    caFile: server.caPath),
                pollInterval: .milliseconds(100), logger: SimulatedAPIFixture.logger)
            do {
                let baseline = try await monitor.nextUpdate(after: nil)
                #expect(baseline.isBaseline && baseline.changes.isEmpty && baseline.snapshot.count == 20)
                #expect(monitor.health.activeSource == .api && monitor.health.isHealthy)
                simulator.now += 30
                try simulator.apply(.stop(agentID: 7))
                let update = try await monitor.nextUpdate(after: baseline.snapshot)
                #expect(update.changes.map(\.agentID) == [7])
                #expect(update.changes.first?.currentStatus == .disconnected)
                #expect(update.changes.first?.reason == .agentStopped)
                // Not persisted: the caller asks again with its old snapshot and gets the same change.
                let again = try await monitor.nextUpdate(after: baseline.snapshot)
                #expect(again.changes == update.changes)
            } catch {
                await monitor.shutdown()
                throw error
            }
            await monitor.shutdown()
        }
    }

    @Test func failuresAreRecordedInHealthAndRetriedUntilTheAPIAnswers() async throws {
        try await SimulatedAPIFixture.run(agents: 3) { _, server in
            let port = server.port ?? 0
            await server.stop()
            let monitor = try WazuhAPIMonitor(
                configuration: .init(
                    url: "https://localhost:\(port)",
                    credentials: .init(user: "gateway", password: SimulatedAPIFixture.password), caFile: server.caPath,
                    requestTimeout: .seconds(5)),
                pollInterval: .milliseconds(200), logger: SimulatedAPIFixture.logger)
            let reading = Task { try await monitor.nextUpdate(after: nil) }
            let failed = try await waitUntil(timeout: .seconds(60)) { monitor.health.consecutiveFailures >= 2 }
            #expect(failed)
            #expect(monitor.health.lastError?.code == .apiUnavailable)
            reading.cancel()
            let ended: Result<SourceUpdate, any Error> = await reading.result
            #expect(throws: CancellationError.self) { try ended.get() }
            await monitor.shutdown()
        }
    }
}
