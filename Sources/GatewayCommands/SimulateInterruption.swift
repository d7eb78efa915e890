import Dispatch
import Foundation
import Gateway

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns SIGINT and SIGTERM into task cancellation for the long-running operator commands
/// (`simulate`, `subscribe`, `demo`), so they stop cleanly: the simulator commits what is open, the
/// subscriber returns its counts, the demo stops its children in order.
public enum CommandInterruption {
    /// Runs `body` in a task that is cancelled when the process receives SIGINT or SIGTERM; the
    /// default signal handling is restored when `body` returns.
    public static func cancellingOnSignals<T: Sendable>(
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let task = Task { try await body() }
        let signals = [SIGINT, SIGTERM]
        let sources = signals.map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { task.cancel() }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
            for number in signals { signal(number, SIG_DFL) }
        }
        return try await task.value
    }

    /// Writes `line` and a newline to standard output at once (unbuffered, so piped output streams).
    public static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// Writes `line` and a newline to standard error.
    public static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
