import Foundation

/// Starts a `nats-server` with these options (see ``NATSServerProcess``), runs `body` with it, and stops it —
/// waiting until the process has exited — however `body` ends: returning, throwing or cancelled.
///
/// The way tests hold a server: `try await withNATSServer(jetStream: true) { server in … }`. A
/// `defer { Task { await server.stop() } }` does not wait for the stop, so servers outlive their test.
public func withNATSServer<T>(
    jetStream: Bool = false, tls: NATSServerProcess.TLS? = nil, extraConfig: String = "",
    isolation: isolated (any Actor)? = #isolation, _ body: (NATSServerProcess) async throws -> T
) async throws -> T {
    let server = try NATSServerProcess(jetStream: jetStream, tls: tls, extraConfig: extraConfig)
    return try await withNATSServers([server]) { _ in try await body(server) }
}

/// Starts every server of `servers` (in order; with `start: false` the body starts them when it wants), runs
/// `body` with them, and stops them all — waiting for each stop — however `body` ends. For clusters and server
/// lists, whose configurations name each other's ports and so are prepared before any starts.
public func withNATSServers<T>(
    _ servers: [NATSServerProcess], start: Bool = true, isolation: isolated (any Actor)? = #isolation,
    _ body: ([NATSServerProcess]) async throws -> T
) async throws -> T {
    do {
        for server in servers where start {
            try await server.start()
        }
        let result = try await body(servers)
        await stopAll(servers)
        return result
    } catch {
        await stopAll(servers)
        throw error
    }
}

/// Stops every server, each stop awaited (SIGTERM, then SIGKILL after a few seconds).
private func stopAll(_ servers: [NATSServerProcess]) async {
    for server in servers {
        await server.stop()
    }
}
