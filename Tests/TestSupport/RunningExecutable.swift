import Foundation

/// The built executable (or another program) running in the background, its standard output and error in a
/// temporary file: read ``output`` while it runs, stop it with ``interrupt(within:)`` (SIGINT, as Ctrl-C) or
/// ``terminate()``. Terminated and its output file removed when released.
public final class RunningExecutable {
    private let process: Process
    private let outputFile: TemporaryDirectory

    /// Starts `executable` (default: ``BuiltExecutable/path``) with `arguments`.
    public init(_ arguments: [String], executable: String? = nil) throws {
        self.outputFile = try TemporaryDirectory(prefix: "cli-output")
        let path = self.outputFile.file("output")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable ?? BuiltExecutable.path)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    deinit {
        if self.process.isRunning { self.process.terminate() }
    }

    /// Everything it has written so far.
    public var output: String {
        (try? String(contentsOfFile: self.outputFile.file("output"), encoding: .utf8)) ?? ""
    }

    public var isRunning: Bool { self.process.isRunning }

    /// Sends SIGINT and waits up to `limit` for the exit status; `nil` if it did not exit.
    public func interrupt(within limit: Duration = .seconds(10)) async throws -> Int32? {
        self.process.interrupt()
        return try await self.exitStatus(within: limit)
    }

    /// Sends SIGTERM and waits for it to exit.
    public func terminate() {
        self.process.terminate()
        self.process.waitUntilExit()
    }

    /// Waits up to `limit` for it to exit on its own; its exit status, or `nil` if it is still running.
    public func exitStatus(within limit: Duration) async throws -> Int32? {
        guard try await waitUntil(timeout: limit, poll: .milliseconds(20), { !self.process.isRunning }) else {
            return nil
        }
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}
