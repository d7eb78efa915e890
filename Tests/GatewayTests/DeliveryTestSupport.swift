import Foundation
import NATSClient
import Outbox
import Synchronization

@testable import Gateway

#if canImport(Glibc)
    import Glibc
#endif

/// A real nats-server on a free loopback port, for the delivery tests (until NATSTestSupport lands).
final class DeliveryTestServer: @unchecked Sendable {
    // @unchecked: `process` is only touched from the owning test task (start/stop/restart), never concurrently.
    let port: Int
    let directory: URL
    let storeDirectory: URL
    let extraConfig: String
    private var process: Process?

    init(jetStream: Bool = true, extraConfig: String = "") throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "delivery-nats-\(UUID().uuidString)")
        self.storeDirectory = directory.appendingPathComponent("js")
        try FileManager.default.createDirectory(at: storeDirectory, withIntermediateDirectories: true)
        self.port = try Self.freePort()
        var config = "listen: 127.0.0.1:\(port)\n"
        if jetStream { config += "jetstream { store_dir: \"\(storeDirectory.path)\" }\n" }
        config += extraConfig
        self.extraConfig = config
        try config.write(to: directory.appendingPathComponent("server.conf"), atomically: true, encoding: .utf8)
        try start()
    }

    var url: String { "nats://127.0.0.1:\(port)" }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.serverPath)
        process.arguments = ["-c", directory.appendingPathComponent("server.conf").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            usleep(20_000)
        }
        throw DeliveryFailure(code: .other, message: "nats-server did not start on port \(port)")
    }

    func stop() {
        guard let process else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Debian installs nats-server in /usr/sbin; other layouts use /usr/bin.
    static let serverPath: String =
        ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/sbin/nats-server"

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw DeliveryFailure(code: .other, message: "bind failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// An in-memory outbox journal for worker tests while the SQLite `OutboxStore` has not landed.
final class InMemoryJournal: DeliveryJournal {
    struct Row {
        var message: OutboxMessage
        var delivered = false
        var streamSequence: UInt64?
        var parked: String?
        var attempts = 0
    }

    private let rows = Mutex<[Row]>([])

    init() {}

    func append(subject: String, messageID: String, payload: [UInt8]) {
        rows.withLock { rows in
            let seq = Int64(rows.count + 1)
            rows.append(
                Row(
                    message: OutboxMessage(
                        seq: seq, messageID: messageID, eventID: messageID, kind: .event, subject: subject,
                        agentID: nil, payload: payload, createdAt: DeliveryWorker.epochMilliseconds())))
        }
    }

    var snapshot: [Row] { rows.withLock { $0 } }

    func pendingMessages(afterSeq: Int64, limit: Int) throws -> [OutboxMessage] {
        rows.withLock { rows in
            Array(
                rows.lazy.filter { $0.message.seq > afterSeq && !$0.delivered && $0.parked == nil }.prefix(limit)
                    .map(\.message))
        }
    }

    func markDelivered(_ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64) throws {
        rows.withLock { rows in
            for (seq, streamSequence) in seqs {
                rows[Int(seq - 1)].delivered = true
                rows[Int(seq - 1)].streamSequence = streamSequence
            }
        }
    }

    func recordFailure(seq: Int64, error: String, nextAttemptAt: Int64?) throws {
        rows.withLock { $0[Int(seq - 1)].attempts += 1 }
    }

    func park(seq: Int64, error: String) throws {
        rows.withLock { $0[Int(seq - 1)].parked = error }
    }

    func pendingCount() throws -> Int {
        rows.withLock { rows in rows.filter { !$0.delivered && $0.parked == nil }.count }
    }

    func oldestPendingCreatedAt() throws -> Int64? {
        rows.withLock { rows in rows.first { !$0.delivered && $0.parked == nil }?.message.createdAt }
    }

    func prune(olderThan: Int64, maxBytes: Int64?) throws -> Int { 0 }
}

/// Passes the signed payload through with the contract headers (no compression, no encryption).
struct PassThroughSealer: DeliverySealer {
    func seal(_ message: OutboxMessage) throws -> OutgoingMessage {
        OutgoingMessage(
            subject: message.subject,
            headers: [
                .init(name: "Nats-Msg-Id", value: message.messageID),
                .init(name: "Content-Type", value: "application/json"),
            ],
            payload: message.payload)
    }
}

/// Waits until `condition` holds, polling, for at most `timeout`.
func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// Collects up to `count` messages from `subscription`, giving up after `timeout`.
func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .seconds(10)) async -> [NATSMessage] {
    await withTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var messages: [NATSMessage] = []
            for await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        var result: [NATSMessage] = []
        for await outcome in group {
            if let outcome {
                result = outcome
                group.cancelAll()
                break
            }
            // The timeout won: stop the collector, keep what it had.
            group.cancelAll()
        }
        return result
    }
}

/// A thread-safe list of strings that escaping closures may append to.
final class StringRecorder: Sendable {
    private let values = Mutex<[String]>([])

    func append(_ value: String) { values.withLock { $0.append(value) } }

    var all: [String] { values.withLock { $0 } }
}
