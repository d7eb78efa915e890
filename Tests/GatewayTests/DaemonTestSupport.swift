import Foundation
import Logging
import Synchronization
import Testing

@testable import Gateway

/// A failed wait in a daemon test (every wait has a timeout).
struct DaemonTestTimeout: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(self.what)" }
}

/// Polls `condition` every `poll` until it holds; throws `DaemonTestTimeout` after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(10), poll: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { throw DaemonTestTimeout(what: what) }
        try await Task.sleep(for: poll)
    }
}

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
