import Testing
import WazuhSource

struct AgentModelTests {
    @Test func mapsEveryDatabaseStatusAndDegradesUnknownValues() {
        #expect(ConnectionStatus(databaseValue: "active") == .active)
        #expect(ConnectionStatus(databaseValue: "disconnected") == .disconnected)
        #expect(ConnectionStatus(databaseValue: "never_connected") == .neverConnected)
        #expect(ConnectionStatus(databaseValue: "pending") == .pending)
        #expect(ConnectionStatus(databaseValue: "rebooting") == .unknown)
        #expect(ConnectionStatus(databaseValue: nil) == .unknown)
    }

    @Test func derivesReasonFromStatusCode() {
        #expect(StatusReason(statusCode: 3) == .agentStopped)
        #expect(StatusReason(statusCode: 4) == .keepaliveTimeout)
        #expect(StatusReason(statusCode: 5) == .managerRestart)
        #expect(StatusReason(statusCode: 0) == nil)
        #expect(StatusReason(statusCode: nil) == nil)
    }
}
