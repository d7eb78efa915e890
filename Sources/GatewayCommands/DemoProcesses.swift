import Foundation
import Gateway

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A child process of the demo (nats-server, the gateway), started with `posix_spawn` in its own
/// process group — so a Ctrl-C in the terminal reaches only the demo, which then stops its children
/// in order — with standard output and error appended to a log file.
struct DemoChildProcess: Sendable {
    let pid: pid_t
    let name: String
    let logPath: String

    /// Starts `executable` with `arguments`.
    static func spawn(name: String, executable: String, arguments: [String], logPath: String)
        throws(OperatorCommandError) -> DemoChildProcess
    {
        var fileActions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&fileActions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&fileActions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &fileActions, &attributes, argv, environ)
        guard result == 0 else {
            throw OperatorCommandError(
                .processFailure, "cannot start \(name) (\(executable)): \(String(cString: strerror(result)))")
        }
        return DemoChildProcess(pid: pid, name: name, logPath: logPath)
    }

    /// The exit status if the process has ended (reaping it), `nil` while it runs.
    func exitStatus() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(self.pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result < 0 { return -1 }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Sends SIGTERM, waits up to `grace`, then SIGKILL. Returns the exit status (128 + signal when
    /// killed by one). Call it from a task that is not cancelled: the waits are task sleeps.
    func stop(grace: Duration) async -> Int32 {
        if let status = self.exitStatus() { return status }
        kill(self.pid, SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while clock.now < deadline {
            if let status = self.exitStatus() { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(self.pid, SIGKILL)
        while true {
            if let status = self.exitStatus() { return status }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Whether a process with this id still exists (a zombie counts until reaped).
    static func exists(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }
}

/// Finding and running a local nats-server for the demo.
enum DemoNATSServer {
    /// Where Debian and the upstream packages put the binary, then every `PATH` directory.
    static func locate(environment: [String: String]) -> String? {
        var candidates = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        for directory in (environment["PATH"] ?? "").split(separator: ":") where !directory.isEmpty {
            candidates.append(String(directory) + "/nats-server")
        }
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// How to get one, for the error message.
    static let installAdvice =
        "no nats-server found (looked in /usr/sbin, /usr/bin, /usr/local/bin and PATH); install it with "
        + "`sudo apt-get install nats-server` (Debian/Ubuntu) or `make deps`, then run the demo again"

    /// The server configuration: loopback only, JetStream stored under `storeDirectory`.
    static func configuration(port: Int, storeDirectory: String) -> String {
        """
        # Written by `wazuh-nats-gateway demo`: loopback only, JetStream on.
        listen: 127.0.0.1:\(port)
        jetstream {
            store_dir: "\(storeDirectory)"
            max_memory_store: 64MB
            max_file_store: 256MB
        }

        """
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago.
    static func freePort() throws(OperatorCommandError) -> Int {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw OperatorCommandError(.processFailure, "cannot create a socket to find a free port") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            throw OperatorCommandError(.processFailure, "cannot bind 127.0.0.1 to find a free port")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw OperatorCommandError(.processFailure, "cannot read the bound port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        #if canImport(Glibc)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return connected == 0
    }
}
