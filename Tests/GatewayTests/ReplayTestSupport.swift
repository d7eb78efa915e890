import Foundation
import Gateway
import NATSClient
import NATSTestSupport
import NIOCore
import Outbox
import Synchronization
import WireContract

@testable import GatewayCommands

/// A prepared world for the operator-command tests: keys (0600), a configuration file and an outbox
/// journal of signed events, in a fresh temp directory removed at the end.
final class CommandFixture: Sendable {
    private let temporary: TemporaryDirectory
    let directory: String
    let signingKeyBytes: [UInt8] = (0..<32).map { UInt8($0) &+ 40 }
    let encryptionKeyBytes: [UInt8] = (0..<32).map { UInt8($0) &+ 90 }
    let clock: Mutex<Int64>

    init() throws {
        self.temporary = try TemporaryDirectory(prefix: "command-tests")
        self.directory = self.temporary.path
        self.clock = Mutex(OutboxStore.wallClockMilliseconds() - 3_600_000)
        try self.writeSecret("signing.key", Data(self.signingKeyBytes).base64EncodedString() + "\n")
        try self.writeSecret("encryption.key", Data(self.encryptionKeyBytes).base64EncodedString() + "\n")
    }

    var outboxPath: String { self.directory + "/outbox.db" }
    var configPath: String { self.directory + "/gateway.yaml" }

    func signingKey() throws -> SigningKey { try SigningKey(bytes: self.signingKeyBytes) }
    func encryptionKey() throws -> EncryptionKey { try EncryptionKey(bytes: self.encryptionKeyBytes) }

    func writeSecret(_ name: String, _ text: String) throws {
        let path = self.directory + "/" + name
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// Writes `gateway.yaml` and returns the loaded configuration.
    @discardableResult
    func writeConfiguration(
        natsURL: String = "nats://127.0.0.1:4222", encrypt: Bool = false, delivery: String = "jetstream",
        compressionMinBytes: Int = 1024
    ) throws -> GatewayConfiguration {
        let yaml = """
            wazuh:
              db_path: "\(self.directory)/global.db"
              manager_node: "node01"
            nats:
              url: "\(natsURL)"
              subject_prefix: "wazuh"
              delivery: \(delivery)
              stream: "WAZUH"
            security:
              signing_key_path: "\(self.directory)/signing.key"
              encrypt_messages: \(encrypt)
              encryption_key_path: "\(self.directory)/encryption.key"
            outbox:
              path: "\(self.outboxPath)"
            delivery:
              compression_min_bytes: \(compressionMinBytes)
            """
        try self.writeSecret("gateway.yaml", yaml)
        return try SubscriberConnection.loadConfiguration(path: self.configPath, environment: [:])
    }

    /// The outbox store with the fixture's settable clock.
    func openOutbox() throws -> OutboxStore {
        try OutboxStore(path: self.outboxPath, synchronous: .normal, now: { [self] in self.clock.withLock { $0 } })
    }

    func advanceClock(milliseconds: Int64) {
        self.clock.withLock { $0 += milliseconds }
    }

    var now: Int64 { self.clock.withLock { $0 } }

    /// A signed event for `agent` (unique per `serial`), as detection journals it.
    func event(agent: Int, serial: Int, name: String? = nil) throws -> AgentStatusEvent {
        let event = AgentStatusEvent(
            eventType: "status_change",
            eventID: EventID.make(
                agentID: agent, kind: "status_change", previous: "Active", current: "Disconnected",
                dateAdd: 1_700_000_000, transitionTime: 1_716_897_300 + Int64(serial)),
            agentID: Subjects.agentToken(agent), agentName: name ?? "host-\(agent)", previousStatus: "Active",
            currentStatus: "Disconnected", reason: "agent_stopped", ipAddress: "10.0.0.\(agent)",
            lastKeepalive: "2024-05-28T11:55:00Z", managerNode: "node01", nodeName: "node01",
            timestamp: "2024-05-28T12:00:00Z")
        return event.signed(with: try self.signingKey())
    }

    /// Journals one status event per entry of `agents`, each `spacing` ms after the previous one.
    /// Returns the journaled messages (seq order).
    @discardableResult
    func journal(agents: [Int], spacing: Int64 = 60_000) throws -> [OutboxMessage] {
        let store = try self.openOutbox()
        defer { try? store.close() }
        let before = try store.stats().lastSeq
        for (serial, agent) in agents.enumerated() {
            let event = try self.event(agent: agent, serial: Int(before) + serial)
            try store.appendDetection(
                messages: [
                    NewOutboxMessage(
                        messageID: event.eventID, eventID: event.eventID, kind: .event,
                        subject: "wazuh.agent.\(event.agentID).status", agentID: event.agentID,
                        payload: event.canonicalJSON())
                ], snapshot: [1, 2, 3])
            self.advanceClock(milliseconds: spacing)
        }
        return try store.messages(matching: OutboxQuery(afterSeq: before, limit: 10_000))
    }

    /// Journals `count` status events for agents 1…`agents` in one detection cycle.
    func journalBulk(count: Int, agents: Int) throws {
        let store = try self.openOutbox()
        defer { try? store.close() }
        let messages = try (0..<count).map { serial in
            let event = try self.event(agent: serial % agents + 1, serial: serial)
            return NewOutboxMessage(
                messageID: event.eventID, eventID: event.eventID, kind: .event,
                subject: "wazuh.agent.\(event.agentID).status", agentID: event.agentID, payload: event.canonicalJSON())
        }
        try store.appendDetection(messages: messages, snapshot: [1])
    }

    /// Marks `seqs` delivered now.
    func markDelivered(_ seqs: [Int64]) throws {
        let store = try self.openOutbox()
        defer { try? store.close() }
        try store.markDelivered(seqs.map { (seq: $0, streamSequence: UInt64?.none) }, at: self.now)
    }

    /// Runs `body` with a JetStream server holding the gateway's stream and a connection to it; closes the
    /// connection and stops the server afterwards, however `body` ends.
    static func withJetStream<T>(_ body: (NATSServerProcess, NATSConnection) async throws -> T) async throws -> T {
        try await withNATSServer(jetStream: true) { server in
            try await withNATSConnection(try NATSConnectionOptions(url: server.url)) { connection in
                _ = try await connection.jetStream().createStream(
                    StreamConfig(name: "WAZUH", subjects: ["wazuh.>"], duplicateWindow: .seconds(600)))
                return try await body(server, connection)
            }
        }
    }

    /// Publishes `messages` as the gateway does (original ids), waiting for each ack.
    func publishOriginals(_ messages: [OutboxMessage], over connection: NATSConnection, sealer: MessageSealer)
        async throws
    {
        let context = connection.jetStream()
        for message in messages {
            let sealed = try sealer.seal(
                subject: message.subject, signedPayload: message.payload, messageID: message.messageID)
            var headers = NATSHeaders()
            for (name, value) in sealed.headers where name != WireHeaders.messageID {
                headers.append(name: name, value: value)
            }
            _ = try await context.publish(
                subject: sealed.subject, payload: ByteBuffer(bytes: sealed.payload), headers: headers,
                messageID: message.messageID)
        }
    }
}

/// Collects output lines from `@Sendable` callbacks.
final class LineCollector: Sendable {
    private let storage = Mutex<[String]>([])

    var lines: [String] { self.storage.withLock { $0 } }

    var append: @Sendable (String) -> Void {
        { line in self.storage.withLock { $0.append(line) } }
    }

    /// Each line parsed as a JSON object.
    var objects: [[String: Any]] {
        self.lines.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
}
