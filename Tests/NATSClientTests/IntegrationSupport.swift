import Logging
import NATSClient
import NATSTestSupport
import NIOCore

/// A deadline was missed in a test.
struct TestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(self.what)" }
}

/// Runs `body` and fails with ``TestTimeout`` when it takes longer than `limit`.
func withDeadline<T: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TestTimeout(what: what)
        }
        return value
    }
}

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

/// Starts a server, connects, runs `body`, then closes and stops everything.
func withServerAndConnection<T: Sendable>(
    jetStream: Bool = false,
    extraConfig: String = "",
    configure: (inout NATSConnectionOptions) -> Void = { _ in },
    body: (NATSServerProcess, NATSConnection) async throws -> T
) async throws -> T {
    let server = try NATSServerProcess(jetStream: jetStream, extraConfig: extraConfig)
    try await server.start()
    do {
        var options = try NATSConnectionOptions(url: server.url)
        options.connectTimeout = .seconds(3)
        options.requestTimeout = .seconds(3)
        configure(&options)
        let connection = try await NATSConnection.connect(options: options)
        do {
            let result = try await body(server, connection)
            await connection.close()
            await server.stop()
            return result
        } catch {
            await connection.close()
            throw error
        }
    } catch {
        await server.stop()
        throw error
    }
}

extension ByteBuffer {
    var text: String { String(buffer: self) }
}
