import Testing

@testable import NATSClient

struct ConnectionStateMachineTests {
    private let info = NATSServerInfo(serverID: "s", version: "2.9.10", maxPayload: 1024)

    @Test func plainHandshakeSendsConnectThenBecomesReadyOnPong() {
        var machine = ConnectionStateMachine(clientRequiresTLS: false, maxPingsOut: 2)
        #expect(machine.infoReceived(self.info) == .sendConnectAndPing(self.info))
        #expect(machine.pingReceived() == .sendPong)
        #expect(machine.pongReceived() == .connectionReady(self.info))
        #expect(machine.state == .connected(self.info))
    }

    @Test func tlsRequiredByServerStartsTLSBeforeConnect() {
        var tlsInfo = self.info
        tlsInfo.tlsRequired = true
        var machine = ConnectionStateMachine(clientRequiresTLS: false, maxPingsOut: 2)
        #expect(machine.infoReceived(tlsInfo) == .startTLS)
        #expect(machine.tlsEstablished() == .sendConnectAndPing(tlsInfo))
        #expect(machine.pongReceived() == .connectionReady(tlsInfo))
    }

    @Test func clientRequiringTLSFailsAgainstServerWithoutTLS() {
        var machine = ConnectionStateMachine(clientRequiresTLS: true, maxPingsOut: 2)
        guard case .closeConnection(let error) = machine.infoReceived(self.info) else {
            Issue.record("expected closeConnection")
            return
        }
        #expect(error.code == .tlsFailure)
    }

    @Test func authorizationErrorDuringHandshakeClosesWithTypedError() {
        var machine = ConnectionStateMachine(clientRequiresTLS: false, maxPingsOut: 2)
        _ = machine.infoReceived(self.info)
        guard case .closeConnection(let error) = machine.errorReceived("Authorization Violation") else {
            Issue.record("expected closeConnection")
            return
        }
        #expect(error.code == .authorizationViolation)
    }

    @Test func permissionsViolationWhileConnectedIsNotFatal() {
        var machine = self.connectedMachine()
        guard case .reportError(let error) = machine.errorReceived("Permissions Violation for Publish to \"x\"") else {
            Issue.record("expected reportError")
            return
        }
        #expect(error.code == .permissionsViolation)
        #expect(machine.state == .connected(self.info))
    }

    @Test func serverErrorsMapToTypedCodes() {
        #expect(NATSError.fromServer("Maximum Payload Violation").code == .maxPayloadViolation)
        #expect(NATSError.fromServer("Stale Connection").code == .staleConnection)
        #expect(NATSError.fromServer("Unknown Protocol Operation").code == .serverError)
    }

    @Test func keepAliveDeclaresConnectionDeadAfterMaxPingsOut() {
        var machine = self.connectedMachine()
        #expect(machine.keepAliveTimerFired() == .sendPing)
        #expect(machine.keepAliveTimerFired() == .sendPing)
        guard case .closeConnection(let error) = machine.keepAliveTimerFired() else {
            Issue.record("expected closeConnection")
            return
        }
        #expect(error.code == .staleConnection)
    }

    @Test func answeredPingsKeepTheConnectionAlive() {
        var machine = self.connectedMachine()
        for _ in 0..<10 {
            #expect(machine.keepAliveTimerFired() == .sendPing)
            #expect(machine.pongReceived() == .none)
        }
    }

    @Test func flushPongsCompleteInOrderAmongKeepAlives() {
        var machine = self.connectedMachine()
        #expect(machine.flushRequested(id: 1) == .sendPing)
        #expect(machine.keepAliveTimerFired() == .sendPing)
        #expect(machine.flushRequested(id: 2) == .sendPing)
        #expect(machine.pongReceived() == .completeFlush(1))
        #expect(machine.pongReceived() == .none)
        #expect(machine.pongReceived() == .completeFlush(2))
    }

    @Test func flushBeforeReadyFailsAndCloseFailsPendingFlushes() {
        var machine = ConnectionStateMachine(clientRequiresTLS: false, maxPingsOut: 2)
        guard case .failFlush(1, _) = machine.flushRequested(id: 1) else {
            Issue.record("expected failFlush")
            return
        }
        var connected = self.connectedMachine()
        _ = connected.flushRequested(id: 7)
        #expect(connected.channelClosed() == [7])
    }

    @Test func infoWhileConnectedUpdatesServerInfo() {
        var machine = self.connectedMachine()
        var updated = self.info
        updated.connectURLs = ["127.0.0.1:4223"]
        #expect(machine.infoReceived(updated) == .updateServerInfo(updated))
    }

    private func connectedMachine() -> ConnectionStateMachine {
        var machine = ConnectionStateMachine(clientRequiresTLS: false, maxPingsOut: 2)
        _ = machine.infoReceived(self.info)
        _ = machine.pongReceived()
        return machine
    }
}
