import Foundation
import Logging
import NATSClient
import NATSTestSupport
import Outbox
import ServiceLifecycle
import Synchronization
import Testing
import WazuhSource
import WireContract

@testable import Gateway
@testable import GatewayCommands

/// The audit log written by the delivery worker against a real JetStream, checked and exported with the
/// `audit` commands.
@Suite(.serialized)
struct AuditDeliveryTests {
    let logger = Logger(label: "audit-test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func everyAcknowledgedMessageIsAuditedWithTheHashOfTheBytesSent() async throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration(encrypt: true, compressionMinBytes: 200)
        let store = try fixture.openOutbox()
        let subjects = try Subjects(prefix: "wazuh")
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "node01"), subjects: subjects, signingKey: try fixture.signingKey())
        let changes = (1...12).map { id in
            AgentChange(
                kind: .statusChange, agentID: id, agentName: "agent-\(id)", ipAddress: nil, previousStatus: .active,
                currentStatus: .disconnected, reason: .keepaliveTimeout, statusCode: 4, lastKeepalive: 1_716_897_300,
                nodeName: "node01", dateAdd: 1_700_000_000, transitionTime: 1_716_897_900)
        }
        let rows = encoder.messages(
            for: changes, counts: WazuhSource.FleetCounts(total: 12, disconnected: 12),
            detectedAtMilliseconds: 1_716_897_901_000)
        try store.appendDetection(messages: rows, snapshot: [1])

        let server = try await startNATSServer()
        let options = try NATSConnectionOptions(url: server.url)
        let connection = try await NATSConnection.connect(options: options)
        let listener = try await NATSConnection.connect(options: options)
        let subscription = try await listener.subscribe(subject: "wazuh.>")
        try await listener.flush()
        let transport = NATSDeliveryTransport(
            connection: connection, mode: .jetstream(JetStreamSettings(streamName: "WAZUH", subjects: ["wazuh.>"])),
            ackTimeout: .seconds(5), logger: logger)
        var workerConfiguration = DeliveryWorkerConfiguration(maxInFlight: 8, pageSize: 8, heartbeatInterval: nil)
        workerConfiguration.auditLog = true
        let worker = DeliveryWorker(
            journal: store, transport: transport,
            sealer: WireDeliverySealer(
                sealer: MessageSealer(compressionMinBytes: 200, encryptionKey: try fixture.encryptionKey())),
            configuration: workerConfiguration, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [worker], logger: logger))
        let task = Task { try await group.run() }
        let received = await collect(subscription, count: rows.count)
        let drained = try await waitUntil { (try? store.pendingCount()) == 0 }
        await group.triggerGracefulShutdown()
        try await task.value
        await listener.close()
        await connection.close()
        await server.stop()
        #expect(drained && received.count == rows.count)

        let records = try store.auditRecords(afterSequence: 0, limit: 1000)
        #expect(records.map(\.sequence) == Array(1...Int64(rows.count)))
        #expect(records.map(\.subject) == received.map(\.subject))
        // Encrypted with a fresh nonce per send: the digest is of the bytes that went out, not of the journal's.
        #expect(records.map(\.payloadSHA256) == received.map { AuditRecord.sha256($0.payloadBytes) })
        #expect(records.map(\.messageID) == rows.map(\.messageID))
        #expect(records.map(\.streamSequence) == (1...UInt64(rows.count)).map { $0 })
        #expect(worker.status.current.auditHead == AuditHead(sequence: Int64(rows.count), hash: records.last!.hash))
        try store.close()

        // `audit verify` and `audit export` read through the read-only reader.
        let report = try AuditInspection.verify(configuration)
        #expect(report.verification.isIntact && report.verification.verifiedRecords == rows.count)
        #expect(report.lines.contains("chain: intact"))
        var exported: [String] = []
        try AuditInspection.export(configuration, since: nil, until: nil, pageSize: 5) { exported.append($0) }
        #expect(exported.count == rows.count)
        let first = try #require(try JSONParser().parse(Array(exported[0].utf8)).objectValue)
        #expect(first["sequence"] == .int(1) && first["hash"] == .string(Hex.encode(records[0].hash)))
        var none: [String] = []
        try AuditInspection.export(configuration, since: OutboxStore.wallClockMilliseconds() + 60_000, until: nil) {
            none.append($0)
        }
        #expect(none.isEmpty)

        let intact = try await BuiltExecutable.run(
            ["audit", "verify", "--config", fixture.configPath], timeout: .seconds(60))
        #expect(intact.status == 0, "\(intact.output)")
        let exportRun = try await BuiltExecutable.run(
            ["audit", "export", "--config", fixture.configPath, "--since", "1h"], timeout: .seconds(60))
        #expect(exportRun.status == 0)
        #expect(exportRun.output.split(separator: "\n").count == rows.count)

        try AuditTampering.tamper(fixture.outboxPath, "DELETE FROM audit_log WHERE seq = 5")
        let broken = try await BuiltExecutable.run(
            ["audit", "verify", "--config", fixture.configPath], timeout: .seconds(60))
        #expect(broken.status == 1)
        #expect(broken.output.contains("BROKEN: record 6 follows record 4"))
    }
}

extension AuditDeliveryTests {
    @Test func heartbeatsTheServerHasAreAuditedToo() async throws {
        let fixture = try CommandFixture()
        let store = try fixture.openOutbox()
        let server = try await startNATSServer()
        let connection = try await NATSConnection.connect(options: try NATSConnectionOptions(url: server.url))
        let transport = NATSDeliveryTransport(
            connection: connection, mode: .jetstream(JetStreamSettings(streamName: "WAZUH", subjects: ["wazuh.>"])),
            ackTimeout: .seconds(5), logger: logger)
        var workerConfiguration = DeliveryWorkerConfiguration(
            maxInFlight: 8, pageSize: 8, heartbeatInterval: .milliseconds(100))
        workerConfiguration.auditLog = true
        let beats = Atomic<Int>(0)
        let worker = DeliveryWorker(
            journal: store, transport: transport, sealer: WireDeliverySealer(sealer: MessageSealer()),
            configuration: workerConfiguration,
            heartbeat: { _ in
                let beat = beats.add(1, ordering: .relaxed).newValue
                return OutgoingMessage(
                    subject: "wazuh.manager.node01.heartbeat",
                    headers: [.init(name: "Nats-Msg-Id", value: "heartbeat:node01:\(beat)")], payload: [UInt8(beat)])
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [worker], logger: logger))
        let task = Task { try await group.run() }
        let audited = try await waitUntil(timeout: .seconds(60)) {
            ((try? store.auditRecords(afterSequence: 0, limit: 100)) ?? []).count >= 3
        }
        await group.triggerGracefulShutdown()
        try await task.value
        await connection.close()
        await server.stop()
        #expect(audited)

        let records = try store.auditRecords(afterSequence: 0, limit: 100)
        #expect(records.allSatisfy { $0.kind == .heartbeat && $0.outboxSeq == 0 })
        #expect(
            records.prefix(3).map(\.messageID) == ["heartbeat:node01:1", "heartbeat:node01:2", "heartbeat:node01:3"])
        #expect(records[0].payloadSHA256 == AuditRecord.sha256([1]))
        #expect(try store.verifyAudit().isIntact)
        #expect((worker.status.current.auditHead?.sequence ?? 0) >= 3)
        try store.close()
    }
}

enum AuditTampering {
    /// Runs `sql` on the database with the sqlite3 shell, as someone rewriting history would.
    static func tamper(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = ["-cmd", ".timeout 5000", path, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
