import NATSTestSupport
import NIOCore
import Testing

@testable import NATSClient

@Suite(.timeLimit(.minutes(2)))
struct ServerListTests {
    @Test func initialConnectSkipsAnUnreachableServer() async throws {
        try await withNATSServer { server in
            let deadPort = try NATSServerProcess.freePort()
            var options = try NATSConnectionOptions(url: "nats://127.0.0.1:\(deadPort),\(server.url)")
            options.connectTimeout = .seconds(2)
            let connection = try await NATSConnection.connect(options: options)
            #expect(connection.connectedServer?.port == server.port)
            await connection.close()
            await server.stop()
        }
    }

    @Test func reconnectFailsOverToTheNextServerAndReplaysSubscriptions() async throws {
        let first = try NATSServerProcess()
        let second = try NATSServerProcess()
        try await withNATSServers([first, second]) { _ in
            var options = try NATSConnectionOptions(url: "\(first.url),\(second.url)")
            options.reconnect = NATSReconnectPolicy(baseDelay: .milliseconds(20), maxDelay: .milliseconds(100))
            options.connectTimeout = .seconds(1)
            let connection = try await NATSConnection.connect(options: options)
            let events = connection.stateChanges
            let subscription = try await connection.subscribe(subject: "failover")
            try await connection.flush()
            #expect(connection.connectedServer?.port == first.port)
            await first.stop()
            _ = try await waitForEvent(events) { $0 == .reconnected }
            #expect(connection.connectedServer?.port == second.port)
            try await connection.flush()
            try await connection.publish(subject: "failover", payload: ByteBuffer(string: "on-second"))
            #expect(try await collect(subscription, count: 1).first?.payload.text == "on-second")
            await connection.close()
            await second.stop()
        }
    }

    @Test func serversLearntFromInfoAreAddedOnce() async throws {
        try await withServerAndConnection { server, connection in
            var info = try #require(connection.serverInfo)
            info.connectURLs = ["127.0.0.1:\(server.port)", "127.0.0.1:4999", "127.0.0.1:4999"]
            connection.serverInfoUpdated(info)
            let ports = connection.knownServers.map(\.port)
            #expect(ports == [server.port, 4999])
        }
    }
}
