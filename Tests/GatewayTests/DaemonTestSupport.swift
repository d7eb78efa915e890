import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Gateway

/// Captures JSON log lines in memory, for tests that check what the daemon logs.
final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    func logger(label: String = "test", level: Logger.Level = .debug) -> Logger {
        let output = LogOutput { line in self.lines.withLock { $0.append(line) } }
        return Logger(label: label) { label in JSONLogHandler(label: label, level: level, output: output) }
    }

    var all: [String] { self.lines.withLock { $0 } }

    func contains(_ text: String) -> Bool {
        self.all.contains { $0.contains(text) }
    }
}

/// Runs `service` in a service group until `body` returns, then shuts it down gracefully and waits for it (also
/// when `body` throws).
func withRunningService<T>(
    _ service: some Service, logger: Logger, isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
    let task = Task { try await group.run() }
    do {
        let result = try await body()
        await group.triggerGracefulShutdown()
        try await task.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        throw error
    }
}
