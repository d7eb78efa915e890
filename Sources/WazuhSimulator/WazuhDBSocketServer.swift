import Foundation
import GRDB
import Logging
import Synchronization
import Timekeeping
import WazuhSource

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The simulator's `queue/db/wdb`: answers wazuh-db's read-only commands from the simulator's own
/// connection — inside its open write transaction — so a reader of the socket sees changes the file
/// will only show after the next commit, as with the real wazuh-db.
///
/// - `global sql <statement>`: run only when SQLite says the statement is read-only; the rows as a
///   JSON array of objects, NULL columns left out, cut at 64 KiB like wazuh-db's own buffer.
/// - `global get-all-agents last_id N` and `global get-agents-by-connection-status N <status>`:
///   `[{"id":…},…]` above N (agent 000 excluded), as many as fit, `due` while more follow.
/// - Anything else, writing statements included: `err`.
///
/// One thread accepts, one thread per connection answers. ``stop()`` closes the socket and every
/// connection (a wazuh-db restart, for tests); ``requests`` counts the commands answered.
public final class WazuhDBSocketServer: Sendable {
    public let path: String
    private let database: DatabaseQueue
    private let logger: Logger
    private struct State {
        var listener: Int32 = -1
        var connections: Set<Int32> = []
        var requests = 0
        var load = Load()
        var stopped = false
        /// Extra delay before each reply (a slow wazuh-db, for tests).
        var replyDelay: Duration = .zero
        /// Answer every command with a well-framed reply that is not wazuh-db's (for tests).
        var garbled = false
    }
    private let state = Mutex(State())

    /// Binds `path` (replacing a stale socket file) and starts accepting.
    public init(path: String, database: DatabaseQueue, logger: Logger) throws {
        self.path = path
        self.database = database
        self.logger = logger
        unlink(path)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw SimulatorSocketError(message: "socket() failed with errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            _ = close(listener)
            throw SimulatorSocketError(message: "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            let code = errno
            _ = close(listener)
            throw SimulatorSocketError(message: "cannot listen on \(path): errno \(code)")
        }
        chmod(path, 0o660)
        state.withLock { $0.listener = listener }
        let thread = Thread { [self] in acceptLoop(listener) }
        thread.name = "wdb-accept"
        thread.start()
    }

    /// Commands answered so far.
    public var requests: Int { state.withLock { $0.requests } }

    /// What answering has cost this server so far: the measure of wazuh-db's load for benchmarks.
    public struct Load: Sendable, Hashable {
        /// Commands answered.
        public var requests = 0
        /// Reply bytes sent (frames, length prefix included).
        public var bytesSent = 0
        /// CPU time of the answering threads from a command's arrival to its reply's last byte sent.
        public var cpuTime: Duration = .zero
        /// Wall time of the same spans.
        public var wallTime: Duration = .zero
    }

    /// Load so far (see ``Load``).
    public var load: Load { state.withLock { $0.load } }

    /// Delays every following reply by `delay` (zero: answer at once).
    public func setReplyDelay(_ delay: Duration) {
        state.withLock { $0.replyDelay = delay }
    }

    /// While `garbled`, every command is answered with a well-framed payload that is neither `ok`,
    /// `due` nor `err` (a broken or foreign server on the socket, for tests).
    public func garbleReplies(_ garbled: Bool) {
        state.withLock { $0.garbled = garbled }
    }

    /// Closes the listening socket and every connection, and removes the socket file.
    public func stop() {
        let descriptors = state.withLock { state -> [Int32] in
            guard !state.stopped else { return [] }
            state.stopped = true
            let all = [state.listener] + Array(state.connections)
            state.connections = []
            return all
        }
        guard !descriptors.isEmpty else { return }
        unlink(path)
        for descriptor in descriptors {
            shutdown(descriptor, Int32(SHUT_RDWR))
        }
        // The threads close their own descriptors once their blocking call returns.
    }

    deinit { stop() }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                break
            }
            let accepted = state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.connections.insert(client)
                return true
            }
            guard accepted else {
                _ = close(client)
                break
            }
            let thread = Thread { [self] in serve(client) }
            thread.name = "wdb-connection"
            thread.start()
        }
        _ = close(listener)
    }

    private func serve(_ descriptor: Int32) {
        defer {
            state.withLock { _ = $0.connections.remove(descriptor) }
            _ = close(descriptor)
        }
        var decoder = WazuhDBFrame.Decoder()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            decoder.feed(buffer[0..<count])
            while true {
                let request: [UInt8]
                do {
                    guard let next = try decoder.next() else { break }
                    request = next
                } catch {
                    return
                }
                let (delay, garbled) = state.withLock { state -> (Duration, Bool) in
                    state.requests += 1
                    return (state.replyDelay, state.garbled)
                }
                if delay > .zero { Thread.sleep(forTimeInterval: delay.fractionalSeconds) }
                let started = (wall: ContinuousClock.now, cpu: Self.threadCPUTime())
                defer {
                    let spent = (wall: ContinuousClock.now - started.wall, cpu: Self.threadCPUTime() - started.cpu)
                    state.withLock { state in
                        state.load.requests += 1
                        state.load.wallTime += spent.wall
                        state.load.cpuTime += spent.cpu
                    }
                }
                let reply = garbled ? Self.garbage : answer(String(decoding: request, as: UTF8.self))
                guard let frame = try? WazuhDBFrame.encode(reply.prefix(WazuhDBFrame.maximumPayload)) else { return }
                var offset = 0
                while offset < frame.count {
                    let sent = frame.withUnsafeBytes {
                        send(descriptor, $0.baseAddress! + offset, frame.count - offset, Int32(MSG_NOSIGNAL))
                    }
                    if sent < 0 && errno == EINTR { continue }
                    guard sent > 0 else { return }
                    offset += sent
                }
                state.withLock { $0.load.bytesSent += frame.count }
            }
        }
    }

    /// What a garbled server answers.
    static let garbage = Array("\u{1}\u{2}NOT-WAZUH-DB <html>".utf8)

    /// CPU time of the calling thread.
    static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    /// The reply payload for one command.
    func answer(_ command: String) -> [UInt8] {
        WazuhDBCommandAnswer(database: database).reply(to: command)
    }
}

/// A failure setting up the simulator's socket.
public struct SimulatorSocketError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
