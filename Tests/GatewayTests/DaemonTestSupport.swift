import Foundation
import Logging
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
