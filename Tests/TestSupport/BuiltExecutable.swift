import Foundation

/// The built `wazuh-nats-gateway` executable next to the test bundle (`swift build` produced it; nothing here
/// builds it): the one way tests find and run it. `RELIABILITY_GATEWAY_BINARY=PATH` runs another build instead
/// (a release build for the soak's memory figures).
public enum BuiltExecutable {
    public static var path: String {
        if let chosen = ProcessInfo.processInfo.environment["RELIABILITY_GATEWAY_BINARY"], !chosen.isEmpty {
            return chosen
        }
        let bundle =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: bundle).deletingLastPathComponent()
        // On Linux the test binary sits directly in the build directory; on macOS inside the .xctest bundle.
        while !directory.path.hasSuffix("/debug") && directory.path != "/"
            && !FileManager.default.fileExists(
                atPath: directory.path + "/wazuh-nats-gateway")
        {
            directory = directory.deletingLastPathComponent()
        }
        return directory.path + "/wazuh-nats-gateway"
    }

    /// Runs the executable with `arguments`; returns its exit status, or `nil` if it did not exit within
    /// `timeout` (it is then killed). `whileRunning` is called every 100 ms until it exits. `executable`
    /// runs another program instead (e.g. `setpriv` with this executable's path among the arguments).
    public static func run(
        _ arguments: [String], timeout: Duration, executable: String? = nil,
        whileRunning: @Sendable () async throws -> Void = {}
    ) async throws -> (status: Int32?, output: String) {
        let running = try RunningExecutable(arguments, executable: executable)
        let deadline = ContinuousClock.now + timeout
        while running.isRunning && ContinuousClock.now < deadline {
            try await whileRunning()
            try await Task.sleep(for: .milliseconds(100))
        }
        if running.isRunning {
            running.terminate()
            return (nil, running.output)
        }
        return (try await running.exitStatus(within: .seconds(5)), running.output)
    }
}
