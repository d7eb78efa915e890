import Foundation
import Logging
import NATSClient
import NATSTestSupport
import Outbox
import ServiceLifecycle
import Testing
import WazuhSource
import WireContract

@testable import Gateway

/// Detection rows journaled in the real SQLite outbox, delivered to JetStream, opened and verified.
@Suite(.serialized)
struct DeliveryOutboxTests {
    let logger = Logger(label: "delivery-outbox-test", factory: { _ in SwiftLogNoOpLogHandler() })

    func changes(count: Int) -> [AgentChange] {
        (1...count).map { id in
            AgentChange(
                kind: .statusChange, agentID: id, agentName: "agent-\(id)", ipAddress: "10.0.0.\(id % 250)",
                previousStatus: .active, currentStatus: .disconnected, reason: .managerRestart, statusCode: 5,
                lastKeepalive: 1_716_897_300, nodeName: "node01", dateAdd: 1_700_000_000, transitionTime: 1_716_897_900)
        }
    }

    @Test func journaledDetectionArrivesSignedCompressedAndInOrder() async throws {
        let directory = try TemporaryDirectory(prefix: "delivery-outbox")
        let store = try OutboxStore(path: directory.file("outbox.db"), synchronous: .normal)
        let signingKey = try SigningKey(bytes: Array(repeating: 7, count: 32))
        let subjects = try Subjects(prefix: "test")
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "mgr-1"), subjects: subjects, signingKey: signingKey,
            maxBatchPayload: 4_000)
        let rows = encoder.messages(
            for: changes(count: 30), counts: WazuhSource.FleetCounts(total: 30, disconnected: 30),
            detectedAtMilliseconds: 1_716_897_901_000)
        // 30 status rows, 30 `.disconnected` rows, and the batch split into parts under 4000 bytes.
        #expect(rows.filter { $0.kind == .event }.count == 30)
        #expect(rows.filter { $0.kind == .secondary }.count == 30)
        let batches = rows.filter { $0.kind == .batch }
        #expect(batches.count > 1)
        #expect(batches.allSatisfy { $0.payload.count <= 4_000 })
        #expect(rows.first?.messageID == rows.first?.eventID)
        #expect(
            rows.contains { $0.messageID.hasSuffix(":disconnected") && $0.subject == "test.agent.001.disconnected" })
        // Deterministic: the same cycle again gives the same rows, and the outbox ignores them.
        let again = encoder.messages(
            for: changes(count: 30), counts: WazuhSource.FleetCounts(total: 30, disconnected: 30),
            detectedAtMilliseconds: 1_716_897_901_000)
        #expect(again == rows)
        #expect(try store.appendDetection(messages: rows, snapshot: [1]) == rows.count)
        #expect(try store.appendDetection(messages: again, snapshot: [2]) == 0)

        let delivery = try await deliverToJetStream(
            store, stream: "WAZUHTEST", subjects: "test.>",
            sealer: WireDeliverySealer(sealer: MessageSealer(compressionMinBytes: 200)),
            configuration: DeliveryWorkerConfiguration(maxInFlight: 16, pageSize: 16, heartbeatInterval: nil),
            expecting: rows.count, logger: logger)
        let received = delivery.received
        #expect(delivery.drained)

        #expect(received.count == rows.count)
        #expect(received.map(\.subject) == rows.map(\.subject))
        let opener = MessageOpener(subjects: subjects, signingKey: signingKey)
        var compressed = 0
        for message in received {
            let headers = (message.headers?.fields ?? []).map { ($0.name, $0.value) }
            if message.headers?["Content-Encoding"] == "lz4" { compressed += 1 }
            let opened = try opener.open(subject: message.subject, headers: headers, payload: message.payloadBytes)
            switch opened {
            case .event(let event, _):
                #expect(event.managerNode == "mgr-1")
                #expect(event.currentStatus == "Disconnected")
            case .batch(let batch):
                #expect(batch.summary.changesDetected == 30)
            case .heartbeat:
                Issue.record("no heartbeat was expected")
            case .anomaly, .flapping:
                Issue.record("no security signal was expected")
            }
        }
        #expect(compressed > 0)
        #expect(try store.stats().delivered == rows.count)
    }
}
