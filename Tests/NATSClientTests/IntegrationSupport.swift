import Logging
import NATSClient
import NATSTestSupport
import NIOCore

/// Collects `count` messages from `subscription` within `limit`.
func collect(_ subscription: NATSSubscription, count: Int, within limit: Duration = .seconds(5)) async throws
    -> [NATSMessage]
{
    try await withDeadline(limit, "\(count) messages on \(subscription.subject)") {
        var messages: [NATSMessage] = []
        for await message in subscription {
            messages.append(message)
            if messages.count == count { break }
        }
        return messages
    }
}

/// Waits for a state change matching `predicate`.
func waitForEvent(
    _ events: AsyncStream<NATSConnectionEvent>,
    within limit: Duration = .seconds(10),
    _ predicate: @escaping @Sendable (NATSConnectionEvent) -> Bool
) async throws -> NATSConnectionEvent {
    try await withDeadline(limit, "connection event") {
        for await event in events where predicate(event) {
            return event
        }
        throw TestTimeout(what: "connection event (stream ended)")
    }
}

/// Options for tests that restart the server: reconnect every 20–200 ms.
func reconnectFast(_ options: inout NATSConnectionOptions) {
    options.reconnect = NATSReconnectPolicy(baseDelay: .milliseconds(20), maxDelay: .milliseconds(200))
}

/// Starts a server, connects, runs `body`, then closes and stops everything.
func withServerAndConnection<T: Sendable>(
    jetStream: Bool = false,
    extraConfig: String = "",
    configure: (inout NATSConnectionOptions) -> Void = { _ in },
    body: (NATSServerProcess, NATSConnection) async throws -> T
) async throws -> T {
    try await withNATSServer(jetStream: jetStream, extraConfig: extraConfig) { server in
        var options = try NATSConnectionOptions(url: server.url)
        options.connectTimeout = .seconds(3)
        options.requestTimeout = .seconds(3)
        configure(&options)
        return try await withNATSConnection(options) { connection in try await body(server, connection) }
    }
}

extension ByteBuffer {
    var text: String { String(buffer: self) }
}
