import NATSClient
import NATSTestSupport
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(2)))
struct ReconnectBehaviourTests {
    @Test func outstandingRequestFailsWithConnectionLostWhenTheServerGoesAway() async throws {
        try await withServerAndConnection(
            configure: {
                $0.reconnect = NATSReconnectPolicy(baseDelay: .milliseconds(20), maxDelay: .milliseconds(100))
            },
            body: { server, connection in
                let silent = try await connection.subscribe(subject: "wait")
                try await connection.flush()
                let request = Task { try await connection.request(subject: "wait", timeout: .seconds(10)) }
                _ = try await collect(silent, count: 1)  // the request is out and awaiting its reply
                let start = ContinuousClock.now
                await server.stop()
                let result = await request.result
                let error = try #require(throws: NATSError.self) { try result.get() }
                #expect(error.code == .connectionLost)
                #expect(ContinuousClock.now - start < .seconds(6))
                _ = silent
            })
    }

    @Test func publishesWhileReconnectingAreDeliveredAfterwards() async throws {
        try await withServerAndConnection(
            configure: {
                $0.reconnect = NATSReconnectPolicy(baseDelay: .milliseconds(50), maxDelay: .milliseconds(200))
            },
            body: { server, connection in
                let events = connection.stateChanges
                let subscription = try await connection.subscribe(subject: "buffered")
                try await connection.flush()
                await server.stop()
                _ = try await waitForEvent(events) {
                    if case .disconnected = $0 { return true }
                    return false
                }
                try await connection.publish(subject: "buffered", payload: ByteBuffer(string: "kept"))
                try await server.start()
                _ = try await waitForEvent(events) { $0 == .reconnected }
                #expect(try await collect(subscription, count: 1).first?.payload.text == "kept")
            })
    }

    @Test func reconnectBufferIsBounded() async throws {
        try await withServerAndConnection(
            configure: {
                $0.reconnect = NATSReconnectPolicy(baseDelay: .seconds(1), maxDelay: .seconds(1))
                $0.reconnectBufferSize = 1000
            },
            body: { server, connection in
                let events = connection.stateChanges
                await server.stop()
                _ = try await waitForEvent(events) {
                    if case .disconnected = $0 { return true }
                    return false
                }
                try await connection.publish(subject: "b", payload: ByteBuffer(repeating: 0, count: 500))
                let error = try await #require(throws: NATSError.self) {
                    try await connection.publish(subject: "b", payload: ByteBuffer(repeating: 0, count: 600))
                }
                #expect(error.code == .reconnectBufferFull)
                let flushError = try await #require(throws: NATSError.self) { try await connection.flush() }
                #expect(flushError.code == .connectionLost)
            })
    }

    @Test func boundedReconnectAttemptsEndInClosed() async throws {
        try await withServerAndConnection(
            configure: {
                $0.reconnect = NATSReconnectPolicy(
                    maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))
                $0.connectTimeout = .milliseconds(500)
            },
            body: { server, connection in
                let events = connection.stateChanges
                await server.stop()
                _ = try await waitForEvent(events, within: .seconds(10)) { $0 == .closed }
                #expect(!connection.isConnected)
                let error = try await #require(throws: NATSError.self) { try await connection.publish(subject: "x") }
                #expect(error.code == .connectionClosed)
            })
    }
}
