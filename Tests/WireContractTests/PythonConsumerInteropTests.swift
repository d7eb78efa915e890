import Foundation
import Testing

@testable import WireContract

/// Our sealed messages open and verify in Python with the same steps as `examples/verify_consumer.py`
/// (cryptography's AESGCM, lz4.frame, json + hmac). Runs only where `python3` has `lz4` and
/// `cryptography` (the CI script pip-installs both).
struct PythonConsumerInteropTests {
    static let available = PythonRunner.hasModule("lz4.frame") && PythonRunner.hasModule("cryptography")

    static let consumer = """
        import sys, json, base64, hmac, hashlib
        import lz4.frame
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        job = json.loads(sys.stdin.read())
        sign_key = base64.b64decode(job["signing_key"])
        enc_key = base64.b64decode(job["encryption_key"])
        def canonical(o):
            return json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        def verify(o):
            body = {k: v for k, v in o.items() if k != "signature"}
            expected = base64.b64encode(hmac.new(sign_key, canonical(body), hashlib.sha256).digest()).decode()
            return hmac.compare_digest(expected, o.get("signature") or "") and all(verify(e) for e in o.get("events", []))
        out = []
        for m in job["messages"]:
            data = base64.b64decode(m["payload"])
            headers = dict(m["headers"])
            if headers.get("Wazuh-Encryption") == "aes-256-gcm":
                data = AESGCM(enc_key).decrypt(data[:12], data[12:], m["subject"].encode("utf-8"))
            if headers.get("Content-Encoding") == "lz4":
                data = lz4.frame.decompress(data)
            obj = json.loads(data)
            out.append({"verified": verify(obj), "id": obj.get("event_id") or obj.get("batch_id") or obj.get("manager_node")})
        sys.stdout.write(json.dumps(out))
        """

    @Test(.enabled(if: available))
    func pythonConsumerOpensAndVerifiesEveryCombination() throws {
        let signingKeyBytes = (0..<32).map { UInt8($0) }
        let encryptionKeyBytes = (0..<32).map { UInt8($0) &+ 9 }
        let key = try SigningKey(bytes: signingKeyBytes)
        let subjects = try Subjects(prefix: "wazuh")
        var event = SampleEvents.event(agent: 7, name: "ünï \"q\" 😀\u{1}")
        event = event.signed(with: key)
        let events = (1...60).map { SampleEvents.event(agent: $0).signed(with: key) }
        let fleet = FleetCounts(
            totalAgents: 60, activeAgents: 1, disconnectedAgents: 59, pendingAgents: 0, neverConnectedAgents: 0)
        let batch = BatchStatusUpdate(
            batchID: BatchStatusUpdate.makeBatchID(time: 9, eventIDs: events.map(\.eventID)), managerNode: "node01",
            timestamp: "2024-05-28T12:00:00Z", events: events, summary: BatchSummary(fleet: fleet, changesDetected: 60)
        ).signed(with: key)
        let heartbeat = Heartbeat(
            gatewayVersion: "1.0.0", uptimeSeconds: 12, natsState: "connected", outboxDepth: 0, outboxParked: 0,
            oldestPendingAgeSeconds: nil, fleet: fleet, timestamp: "2024-05-28T12:00:00Z", managerNode: "node01"
        ).signed(with: key)

        var messages = [[String: Any]]()
        var expectedIDs = [String]()
        for sealer in [
            MessageSealer(), MessageSealer(compressionMinBytes: 10),
            MessageSealer(encryptionKey: try EncryptionKey(bytes: encryptionKeyBytes)),
            MessageSealer(compressionMinBytes: 10, encryptionKey: try EncryptionKey(bytes: encryptionKeyBytes)),
        ] {
            let sealed = [
                try sealer.seal(
                    subject: subjects.status(agentID: 7), signedPayload: event.canonicalJSON(), messageID: "a"),
                try sealer.seal(subject: subjects.agentEvents, signedPayload: batch.canonicalJSON(), messageID: "b"),
                try sealer.seal(
                    subject: subjects.heartbeat(node: "node01"), signedPayload: heartbeat.canonicalJSON(),
                    messageID: "c"),
            ]
            for message in sealed {
                messages.append([
                    "subject": message.subject, "headers": message.headers.map { [$0.0, $0.1] },
                    "payload": Data(message.payload).base64EncodedString(),
                ])
            }
            expectedIDs += [event.eventID, batch.batchID, "node01"]
        }
        let job: [String: Any] = [
            "signing_key": Data(signingKeyBytes).base64EncodedString(),
            "encryption_key": Data(encryptionKeyBytes).base64EncodedString(),
            "messages": messages,
        ]
        let output = try PythonRunner.run(
            Self.consumer, input: [UInt8](try JSONSerialization.data(withJSONObject: job)))
        let results = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [[String: Any]])
        #expect(results.count == 12)
        #expect(results.allSatisfy { ($0["verified"] as? Bool) == true })
        #expect(results.compactMap { $0["id"] as? String } == expectedIDs)
    }
}
