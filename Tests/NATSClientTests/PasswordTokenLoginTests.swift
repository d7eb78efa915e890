import NATSClient
import NATSTestSupport
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(2)))
struct PasswordTokenLoginTests {
    private func connect(_ server: NATSServerProcess, url: String? = nil, auth: NATSAuth) async throws -> NATSConnection
    {
        var options = try NATSConnectionOptions(url: url ?? server.url, auth: auth)
        options.connectTimeout = .seconds(30)
        return try await NATSConnection.connect(options: options)
    }

    @Test func userPasswordLoginWorksAndWrongPasswordFailsPromptly() async throws {
        try await withNATSServer(extraConfig: "authorization {\n  user: alice\n  password: \"s3cret-pw\"\n}") {
            server in
            let connection = try await self.connect(server, auth: .userPassword(user: "alice", password: "s3cret-pw"))
            #expect(connection.serverInfo?.authRequired == true)
            try await connection.flush()
            await connection.close()

            let start = ContinuousClock.now
            let error = try await #require(throws: NATSError.self) {
                _ = try await self.connect(server, auth: .userPassword(user: "alice", password: "wrong-pw"))
            }
            #expect(error.code == .authorizationViolation)
            #expect(ContinuousClock.now - start < .seconds(10), "must fail on the server error, not the 30 s timeout")
            #expect(!"\(error)".contains("wrong-pw"))

            let missing = try await #require(throws: NATSError.self) { _ = try await self.connect(server, auth: .none) }
            #expect(missing.code == .authorizationViolation)
            await server.stop()
        }
    }

    @Test func credentialsInTheURLAreUsed() async throws {
        try await withNATSServer(extraConfig: "authorization {\n  user: bob\n  password: \"p@ss\"\n}") { server in
            let connection = try await self.connect(
                server, url: "nats://bob:p%40ss@127.0.0.1:\(server.port)", auth: .none)
            try await connection.flush()
            await connection.close()
            // The URL's credentials are what logs in: a wrong password in the URL is refused.
            let error = try await #require(throws: NATSError.self) {
                _ = try await self.connect(server, url: "nats://bob:wrong@127.0.0.1:\(server.port)", auth: .none)
            }
            #expect(error.code == .authorizationViolation)
            await server.stop()
        }
    }

    @Test func tokenLoginWorksAndWrongTokenFailsPromptly() async throws {
        try await withNATSServer(extraConfig: "authorization {\n  token: \"t0ken-value\"\n}") { server in
            let connection = try await self.connect(server, auth: .token("t0ken-value"))
            try await connection.flush()
            await connection.close()
            let start = ContinuousClock.now
            let error = try await #require(throws: NATSError.self) {
                _ = try await self.connect(server, auth: .token("bad-token"))
            }
            #expect(error.code == .authorizationViolation)
            #expect(ContinuousClock.now - start < .seconds(10), "must fail on the server error, not the 30 s timeout")
            await server.stop()
        }
    }

    @Test func permissionsViolationKeepsTheConnectionUsable() async throws {
        let config = """
            authorization {
              users = [
                { user: limited, password: "pw-limited", permissions: { publish: { deny: ["forbidden.>"] } } }
              ]
            }
            """
        try await withNATSServer(extraConfig: config) { server in
            let connection = try await self.connect(
                server, auth: .userPassword(user: "limited", password: "pw-limited"))
            let events = connection.stateChanges
            let subscription = try await connection.subscribe(subject: "allowed")
            try await connection.publish(subject: "forbidden.x", payload: ByteBuffer(string: "no"))
            try await connection.flush()
            try await connection.publish(subject: "allowed", payload: ByteBuffer(string: "yes"))
            #expect(try await collect(subscription, count: 1).first?.payload.text == "yes")
            #expect(connection.isConnected)
            await connection.close()
            let sawDisconnect = try await withDeadline(.seconds(2), "closed event") {
                var disconnected = false
                for await event in events {
                    if case .disconnected = event { disconnected = true }
                    if event == .closed { break }
                }
                return disconnected
            }
            #expect(!sawDisconnect)
            await server.stop()
        }
    }
}
