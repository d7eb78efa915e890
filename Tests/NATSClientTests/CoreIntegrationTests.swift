import Foundation
import NATSClient
import NATSTestSupport
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite(.timeLimit(.minutes(2)))
struct CoreIntegrationTests {
    @Test func publishedMessagesReachTheSubscriberInOrder() async throws {
        try await withServerAndConnection { _, connection in
            let subscription = try await connection.subscribe(subject: "orders.>")
            try await connection.flush()
            for index in 0..<100 {
                try await connection.publish(subject: "orders.\(index % 3)", payload: ByteBuffer(string: "m\(index)"))
            }
            let messages = try await collect(subscription, count: 100)
            #expect(messages.map(\.payload.text) == (0..<100).map { "m\($0)" })
            #expect(messages[1].subject == "orders.1")
            #expect(messages[0].headers == nil)
        }
    }

    @Test func headersSurviveTheRoundTrip() async throws {
        try await withServerAndConnection { _, connection in
            let subscription = try await connection.subscribe(subject: "h")
            try await connection.flush()
            var headers = NATSHeaders()
            headers.append(name: "Nats-Msg-Id", value: "evt-1")
            headers.append(name: "Content-Type", value: "application/json")
            headers.append(name: "X-Multi", value: "a")
            headers.append(name: "X-Multi", value: "b")
            try await connection.publish(subject: "h", headers: headers, payload: ByteBuffer(string: "{}"))
            let message = try #require(try await collect(subscription, count: 1).first)
            #expect(message.headers == headers)
            #expect(message.headers?["nats-msg-id"] == "evt-1")
            #expect(message.headers?.values(for: "X-Multi") == ["a", "b"])
            #expect(message.payload.text == "{}")
        }
    }

    @Test func requestGetsTheResponderReply() async throws {
        try await withServerAndConnection { _, connection in
            let service = try await connection.subscribe(subject: "svc.echo")
            let responder = Task {
                for await request in service {
                    guard let replyTo = request.replyTo else { continue }
                    try await connection.publish(
                        subject: replyTo, payload: ByteBuffer(string: "echo:" + request.payload.text))
                }
            }
            defer { responder.cancel() }
            try await connection.flush()
            let replies = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await connection.request(subject: "svc.echo", payload: ByteBuffer(string: "\(index)"))
                            .payload.text
                    }
                }
                var all: [String] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(Set(replies) == Set((0..<50).map { "echo:\($0)" }))
        }
    }

    @Test func requestWithoutRespondersFailsPromptly() async throws {
        try await withServerAndConnection { _, connection in
            let start = ContinuousClock.now
            let error = try await #require(throws: NATSError.self) {
                _ = try await connection.request(subject: "nobody.home", timeout: .seconds(5))
            }
            #expect(error.code == .noResponders)
            #expect(ContinuousClock.now - start < .seconds(2), "must not wait for the 5 s timeout")
        }
    }

    @Test func requestTimesOutWhenTheResponderIsSilent() async throws {
        try await withServerAndConnection { _, connection in
            let silent = try await connection.subscribe(subject: "silent")
            try await connection.flush()
            let error = try await #require(throws: NATSError.self) {
                _ = try await connection.request(subject: "silent", timeout: .milliseconds(200))
            }
            #expect(error.code == .timeout)
            try await silent.unsubscribe()
        }
    }

    @Test func payloadAboveServerMaxPayloadIsRefusedBeforeSending() async throws {
        try await withServerAndConnection(extraConfig: "max_payload: 1024") { _, connection in
            #expect(connection.serverInfo?.maxPayload == 1024)
            let error = try await #require(throws: NATSError.self) {
                try await connection.publish(subject: "big", payload: ByteBuffer(repeating: 1, count: 1025))
            }
            #expect(error.code == .payloadTooLarge)
            let subscription = try await connection.subscribe(subject: "big")
            try await connection.flush()
            try await connection.publish(subject: "big", payload: ByteBuffer(repeating: 1, count: 1000))
            #expect(try await collect(subscription, count: 1).first?.payload.readableBytes == 1000)
        }
    }

    @Test func invalidSubjectsAreRefused() async throws {
        try await withServerAndConnection { _, connection in
            for subject in ["", "a b", "a\r\nPUB x 1"] {
                let error = try await #require(throws: NATSError.self) {
                    try await connection.publish(subject: subject)
                }
                #expect(error.code == .invalidSubject)
            }
            let error = try await #require(throws: NATSError.self) {
                try await connection.publish(subject: "ok", headers: ["Bad\r\nName": "v"])
            }
            #expect(error.code == .invalidHeader)
        }
    }

    @Test func unsubscribeEndsTheSequence() async throws {
        try await withServerAndConnection { _, connection in
            let subscription = try await connection.subscribe(subject: "u")
            try await subscription.unsubscribe()
            let messages = try await withDeadline(.seconds(2), "sequence end") {
                var received: [NATSMessage] = []
                for await message in subscription { received.append(message) }
                return received
            }
            #expect(messages.isEmpty)
        }
    }

    @Test func queueGroupDeliversEachMessageOnce() async throws {
        try await withServerAndConnection { _, connection in
            let first = try await connection.subscribe(subject: "work", queue: "workers")
            let second = try await connection.subscribe(subject: "work", queue: "workers")
            try await connection.flush()
            for index in 0..<20 {
                try await connection.publish(subject: "work", payload: ByteBuffer(string: "\(index)"))
            }
            // The flush's PONG follows every MSG the server routed for these publishes: all have arrived.
            try await connection.flush()
            try await connection.drain()
            var total = 0
            for subscription in [first, second] {
                total += try await withDeadline(.seconds(2), "drained") {
                    var count = 0
                    for await _ in subscription { count += 1 }
                    return count
                }
            }
            #expect(total == 20)
        }
    }

    @Test func connectingToAClosedPortFailsFast() async throws {
        let port = try NATSServerProcess.freePort()
        var options = try NATSConnectionOptions(url: "nats://127.0.0.1:\(port)")
        options.connectTimeout = .seconds(10)
        let start = ContinuousClock.now
        let error = try await #require(throws: NATSError.self) {
            _ = try await NATSConnection.connect(options: options)
        }
        #expect(error.code == .connectionFailed)
        #expect(ContinuousClock.now - start < .seconds(5), "refused must not wait for the 10 s timeout")
    }

    @Test func reconnectsAfterServerRestartAndReplaysSubscriptions() async throws {
        try await withServerAndConnection(
            configure: reconnectFast,
            body: { server, connection in
                let events = connection.stateChanges
                _ = try await waitForEvent(events) { $0 == .connected }
                let subscription = try await connection.subscribe(subject: "survive")
                try await connection.flush()
                try await server.restart()
                let disconnected = try await waitForEvent(events) {
                    if case .disconnected = $0 { return true }
                    return false
                }
                guard case .disconnected(let reason) = disconnected else { return }
                #expect(reason.code == .connectionLost)
                _ = try await waitForEvent(events) { $0 == .reconnected }
                try await connection.flush()
                try await connection.publish(subject: "survive", payload: ByteBuffer(string: "after"))
                #expect(try await collect(subscription, count: 1).first?.payload.text == "after")
            })
    }

    @Test func unansweredPingsDeclareTheConnectionStaleAndReconnect() async throws {
        try await withServerAndConnection(
            configure: {
                $0.pingInterval = .milliseconds(100)
                $0.maxPingsOut = 2
                $0.reconnect = NATSReconnectPolicy(baseDelay: .milliseconds(20), maxDelay: .milliseconds(100))
                $0.connectTimeout = .milliseconds(300)
            },
            body: { server, connection in
                let events = connection.stateChanges
                let pid = try #require(server.processIdentifier)
                kill(pid, SIGSTOP)
                let event: NATSConnectionEvent
                do {
                    event = try await waitForEvent(events, within: .seconds(5)) {
                        if case .disconnected = $0 { return true }
                        return false
                    }
                } catch {
                    kill(pid, SIGCONT)
                    throw error
                }
                kill(pid, SIGCONT)
                guard case .disconnected(let reason) = event else { return }
                #expect(reason.code == .staleConnection)
                _ = try await waitForEvent(events) { $0 == .reconnected }
                try await connection.flush()
            })
    }

    @Test func closeFailsOutstandingRequestsAndEmitsClosed() async throws {
        try await withServerAndConnection { _, connection in
            let silent = try await connection.subscribe(subject: "slow")
            let events = connection.stateChanges
            try await connection.flush()
            let pending = Task { try await connection.request(subject: "slow", timeout: .seconds(10)) }
            _ = try await collect(silent, count: 1)  // the request is out and awaiting its reply
            await connection.close()
            let result = await pending.result
            #expect(throws: NATSError.self) { try result.get() }
            _ = try await waitForEvent(events) { $0 == .closed }
            let error = try await #require(throws: NATSError.self) { try await connection.publish(subject: "x") }
            #expect(error.code == .connectionClosed)
            _ = silent
        }
    }

    @Test func cancellingARequestEndsItPromptly() async throws {
        try await withServerAndConnection { _, connection in
            let silent = try await connection.subscribe(subject: "never")
            try await connection.flush()
            let request = Task { try await connection.request(subject: "never", timeout: .seconds(10)) }
            _ = try await collect(silent, count: 1)  // the request is out and awaiting its reply
            let start = ContinuousClock.now
            request.cancel()
            let result = await request.result
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(ContinuousClock.now - start < .seconds(2), "must not wait for the 10 s timeout")
            try await connection.flush()
            try await silent.unsubscribe()
        }
    }
}
