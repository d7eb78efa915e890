import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A real `nats-server` process for tests and benchmarks, on a free loopback port, with its own temp directory.
///
/// The configuration file is written to ``directory``; JetStream stores there too, so ``restart()`` keeps the
/// streams. Every wait is bounded; ``stop()`` sends SIGTERM and escalates to SIGKILL after a few seconds.
public final class NATSServerProcess: @unchecked Sendable {
    // @unchecked: `process` is mutated only under `lock`.

    /// TLS settings for the server's client port.
    public struct TLS: Sendable {
        public var certificatePath: String
        public var keyPath: String
        /// CA used to verify client certificates (when `verifyClients`).
        public var caPath: String?
        /// Require and verify client certificates (mutual TLS).
        public var verifyClients: Bool

        public init(certificatePath: String, keyPath: String, caPath: String? = nil, verifyClients: Bool = false) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.caPath = caPath
            self.verifyClients = verifyClients
        }
    }

    /// `$NATS_SERVER_PATH`, else the first of `/usr/sbin`, `/usr/bin`, `/usr/local/bin` holding `nats-server`
    /// (Debian installs it in `/usr/sbin`).
    public static var executablePath: String {
        if let path = ProcessInfo.processInfo.environment["NATS_SERVER_PATH"], !path.isEmpty {
            return path
        }
        let candidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    public let port: Int
    /// The temp directory holding the config file, the log and the JetStream store.
    public let directory: String
    public let jetStream: Bool
    public let tls: TLS?
    public let extraConfig: String
    private let lock = NSLock()
    private var process: Process?

    /// Prepares a server; call ``start()`` to run it.
    public init(jetStream: Bool = false, tls: TLS? = nil, extraConfig: String = "") throws {
        self.port = try Self.freePort()
        self.directory = try Self.makeTemporaryDirectory(prefix: "nats-server")
        self.jetStream = jetStream
        self.tls = tls
        self.extraConfig = extraConfig
    }

    /// Terminates a server still running and removes the temp directory (config, log, JetStream store).
    deinit {
        if let process, process.isRunning {
            process.terminate()
        }
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    /// The running server's process id, if it runs (tests pause it with SIGSTOP to simulate a dead peer).
    public var processIdentifier: Int32? {
        self.lock.withLock { self.process?.processIdentifier }
    }

    /// `nats://127.0.0.1:PORT` (`tls://` when TLS is configured).
    public var url: String {
        "\(self.tls == nil ? "nats" : "tls")://127.0.0.1:\(self.port)"
    }

    public var configPath: String { self.directory + "/nats-server.conf" }
    public var logPath: String { self.directory + "/nats-server.log" }

    /// The configuration text written to ``configPath``.
    public var configText: String {
        var text = "listen: 127.0.0.1:\(self.port)\n"
        text += "log_file: \"\(self.logPath)\"\n"
        if self.jetStream {
            text +=
                "jetstream {\n  store_dir: \"\(self.directory)/jetstream\"\n  max_memory_store: 256MB\n  max_file_store: 1GB\n}\n"
        }
        if let tls = self.tls {
            text += "tls {\n  cert_file: \"\(tls.certificatePath)\"\n  key_file: \"\(tls.keyPath)\"\n"
            if let ca = tls.caPath {
                text += "  ca_file: \"\(ca)\"\n"
            }
            if tls.verifyClients {
                text += "  verify: true\n"
            }
            text += "  timeout: 2\n}\n"
        }
        text += self.extraConfig
        text += "\n"
        return text
    }

    /// Writes the configuration, starts the server and waits (up to `timeout`) until it accepts connections.
    public func start(timeout: Duration = .seconds(30)) async throws {
        try self.configText.write(toFile: self.configPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        process.arguments = ["-c", self.configPath]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.lock.withLock { self.process = process }
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if !process.isRunning {
                throw NATSServerProcessError(message: "nats-server exited at start: \(self.logTail())")
            }
            if Self.canConnect(port: self.port) {
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await self.stop()
        throw NATSServerProcessError(message: "nats-server did not accept connections within \(timeout)")
    }

    /// Stops the server: SIGTERM, then SIGKILL if it is still running after 5 seconds.
    public func stop() async {
        let process = self.lock.withLock { () -> Process? in
            let current = self.process
            self.process = nil
            return current
        }
        guard let process, process.isRunning else { return }
        process.terminate()
        let start = ContinuousClock.now
        while process.isRunning, ContinuousClock.now - start < .seconds(5) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            sendSignal(process.processIdentifier, SIGKILL)
            while process.isRunning, ContinuousClock.now - start < .seconds(10) {
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// Stops and starts the server on the same port and store directory; with `killing`, stops it with SIGKILL
    /// at once (a crash, and the way to end a frozen server).
    public func restart(killing: Bool = false) async throws {
        if killing {
            await self.kill()
        } else {
            await self.stop()
        }
        try await self.start()
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing is answered until it is killed.
    public func freeze() {
        let process = self.lock.withLock { self.process }
        guard let process, process.isRunning else { return }
        sendSignal(process.processIdentifier, SIGSTOP)
    }

    /// Lets a frozen server run again (SIGCONT).
    public func thaw() {
        let process = self.lock.withLock { self.process }
        guard let process, process.isRunning else { return }
        sendSignal(process.processIdentifier, SIGCONT)
    }

    /// Kills the server with SIGKILL and waits until it is gone.
    public func kill() async {
        let process = self.lock.withLock { () -> Process? in
            let current = self.process
            self.process = nil
            return current
        }
        guard let process, process.isRunning else { return }
        sendSignal(process.processIdentifier, SIGKILL)
        let start = ContinuousClock.now
        while process.isRunning, ContinuousClock.now - start < .seconds(10) {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The last lines of the server log, for failure messages.
    public func logTail(maxBytes: Int = 2000) -> String {
        guard let text = try? String(contentsOfFile: self.logPath, encoding: .utf8) else { return "(no log)" }
        return String(text.suffix(maxBytes))
    }

    /// Finds a free loopback TCP port by binding port 0.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NATSServerProcessError(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw NATSServerProcessError(message: "bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw NATSServerProcessError(message: "getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    public static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// Creates a fresh directory under the system temp directory.
    public static func makeTemporaryDirectory(prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + "/\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A test server could not be started or prepared.
public struct NATSServerProcessError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "NATSServerProcessError: \(self.message)" }
}

/// Sends `signal` to process `pid` (the C `kill`, out of reach of ``NATSServerProcess/kill()`` inside the class).
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
