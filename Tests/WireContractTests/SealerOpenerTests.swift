import Testing

@testable import WireContract

struct SealerOpenerTests {
    enum Mode: String, CaseIterable {
        case plain, compressed, encrypted, compressedAndEncrypted
    }

    func sealer(_ mode: Mode) throws -> MessageSealer {
        switch mode {
        case .plain: return MessageSealer(compressionMinBytes: 1024)
        case .compressed: return MessageSealer(compressionMinBytes: 10)
        case .encrypted:
            return MessageSealer(compressionMinBytes: 1024, encryptionKey: try SampleEvents.encryptionKey())
        case .compressedAndEncrypted:
            return MessageSealer(compressionMinBytes: 10, encryptionKey: try SampleEvents.encryptionKey())
        }
    }

    func opener() throws -> MessageOpener {
        MessageOpener(
            subjects: try Subjects(prefix: "wazuh"), signingKey: try SampleEvents.signingKey(),
            encryptionKey: try SampleEvents.encryptionKey())
    }

    @Test(arguments: Mode.allCases)
    func eventRoundTrips(mode: Mode) throws {
        let key = try SampleEvents.signingKey()
        let event = SampleEvents.quoted.signed(with: key)
        let subjects = try Subjects(prefix: "wazuh")
        let sealed = try self.sealer(mode).seal(
            subject: subjects.disconnected(agentID: 1), signedPayload: event.canonicalJSON(),
            messageID: event.eventID + ":disconnected")
        #expect(sealed.header("Nats-Msg-Id") == event.eventID + ":disconnected")
        #expect(sealed.header("Content-Type") == "application/json")
        let compressed = mode == .compressed || mode == .compressedAndEncrypted
        let encrypted = mode == .encrypted || mode == .compressedAndEncrypted
        #expect((sealed.header("Content-Encoding") == "lz4") == compressed)
        #expect((sealed.header("Wazuh-Encryption") == "aes-256-gcm") == encrypted)
        #expect((sealed.payload == event.canonicalJSON()) == (mode == .plain))
        #expect(try self.opener().open(sealed) == .event(event, channel: "disconnected"))
    }

    @Test(arguments: Mode.allCases)
    func batchAndHeartbeatRoundTrip(mode: Mode) throws {
        let key = try SampleEvents.signingKey()
        let events = (1...40).map { SampleEvents.event(agent: $0).signed(with: key) }
        let fleet = FleetCounts(
            totalAgents: 40, activeAgents: 0, disconnectedAgents: 40, pendingAgents: 0, neverConnectedAgents: 0)
        let batch = BatchStatusUpdate(
            batchID: BatchStatusUpdate.makeBatchID(time: 1, eventIDs: events.map(\.eventID)), managerNode: "node01",
            timestamp: "2024-05-28T12:00:00Z", events: events, summary: BatchSummary(fleet: fleet, changesDetected: 40),
            part: 1, parts: 2
        ).signed(with: key)
        let subjects = try Subjects(prefix: "wazuh")
        let sealedBatch = try self.sealer(mode).seal(
            subject: subjects.agentEvents, signedPayload: batch.canonicalJSON(), messageID: batch.messageID)
        #expect(try self.opener().open(sealedBatch) == .batch(batch))

        let heartbeat = Heartbeat(
            gatewayVersion: "1.0.0", uptimeSeconds: 3600, natsState: "connected", outboxDepth: 3, outboxParked: 0,
            oldestPendingAgeSeconds: nil, fleet: fleet, timestamp: "2024-05-28T12:00:00Z", managerNode: "node 01"
        ).signed(with: key)
        let sealedHeartbeat = try self.sealer(mode).seal(
            subject: subjects.heartbeat(node: "node 01"), signedPayload: heartbeat.canonicalJSON(), messageID: "hb-1")
        #expect(try self.opener().open(sealedHeartbeat) == .heartbeat(heartbeat))
    }

    @Test func compressionAppliesOnlyAboveTheThreshold() throws {
        let sealer = MessageSealer(compressionMinBytes: 100)
        let exactly = try sealer.seal(
            subject: "wazuh.security.agent_events", signedPayload: .init(repeating: 0x20, count: 100), messageID: "m")
        #expect(exactly.header("Content-Encoding") == nil)
        let above = try sealer.seal(
            subject: "wazuh.security.agent_events", signedPayload: .init(repeating: 0x20, count: 101), messageID: "m")
        #expect(above.header("Content-Encoding") == "lz4")
        let disabled = MessageSealer(compressionMinBytes: 0, compressionEnabled: false)
        let plain = try disabled.seal(
            subject: "wazuh.security.agent_events", signedPayload: .init(repeating: 0x20, count: 5000), messageID: "m")
        #expect(plain.header("Content-Encoding") == nil)
    }

    @Test func eachFailingStepIsNamed() throws {
        let key = try SampleEvents.signingKey()
        let subjects = try Subjects(prefix: "wazuh")
        let event = SampleEvents.quoted.signed(with: key)
        let opener = try self.opener()
        let encrypted = try self.sealer(.compressedAndEncrypted).seal(
            subject: subjects.status(agentID: 1), signedPayload: event.canonicalJSON(), messageID: event.eventID)

        func code(_ subject: String, _ headers: [(String, String)], _ payload: [UInt8], opener: MessageOpener? = nil)
            -> WireError.Code?
        {
            let error = #expect(throws: WireError.self) {
                try (opener ?? self.opener()).open(subject: subject, headers: headers, payload: payload)
            }
            return error?.code
        }
        let status = subjects.status(agentID: 1)
        // Moved to another subject: AAD mismatch.
        #expect(code(subjects.status(agentID: 2), encrypted.headers, encrypted.payload) == .decryptionFailed)
        // No key to decrypt.
        let keyless = MessageOpener(subjects: subjects, signingKey: key)
        #expect(code(status, encrypted.headers, encrypted.payload, opener: keyless) == .encryptionKeyMissing)
        // Unknown encodings.
        #expect(code(status, [("Content-Encoding", "gzip")], event.canonicalJSON()) == .unsupportedEncoding)
        #expect(code(status, [("Wazuh-Encryption", "rot13")], event.canonicalJSON()) == .unsupportedEncoding)
        // Claims LZ4 but is not.
        #expect(code(status, [("content-encoding", "lz4")], event.canonicalJSON()) == .decompressionFailed)
        // Not JSON, not an object, wrong shape.
        #expect(code(status, [], Array("{\"a\":".utf8)) == .malformedJSON)
        #expect(code(status, [], Array("[1]".utf8)) == .invalidMessage)
        #expect(code(status, [], Array("{\"event_id\":1}".utf8)) == .invalidMessage)
        // Unsigned, wrongly signed, signed by another key.
        var unsigned = event
        unsigned.signature = nil
        #expect(code(status, [], unsigned.canonicalJSON()) == .signatureMissing)
        var altered = event
        altered.agentName = "other"
        #expect(code(status, [], altered.canonicalJSON()) == .signatureMismatch)
        let foreign = SampleEvents.quoted.signed(with: try SigningKey(bytes: .init(repeating: 3, count: 32)))
        #expect(code(status, [], foreign.canonicalJSON()) == .signatureMismatch)
        // A validly signed event on another agent's subject.
        #expect(code(subjects.status(agentID: 2), [], event.canonicalJSON()) == .invalidMessage)
        // Not a contract subject.
        #expect(code("elsewhere.agent.001.status", [], event.canonicalJSON()) == .invalidMessage)
        // Plain payload opens.
        #expect(
            try opener.open(subject: status, headers: [], payload: event.canonicalJSON())
                == .event(event, channel: "status"))
    }

    @Test func batchWithATamperedNestedEventSignatureIsRejected() throws {
        let key = try SampleEvents.signingKey()
        var events = (1...2).map { SampleEvents.event(agent: $0).signed(with: key) }
        events[1].signature = events[0].signature  // wrong signature for event 2
        let fleet = FleetCounts(
            totalAgents: 2, activeAgents: 0, disconnectedAgents: 2, pendingAgents: 0, neverConnectedAgents: 0)
        let batch = BatchStatusUpdate(
            batchID: "batch_1_x", managerNode: "n", timestamp: "t", events: events,
            summary: BatchSummary(fleet: fleet, changesDetected: 2)
        ).signed(with: key)  // the batch signature itself is valid
        let error = #expect(throws: WireError.self) {
            try self.opener().open(subject: "wazuh.security.agent_events", headers: [], payload: batch.canonicalJSON())
        }
        #expect(error?.code == .signatureMismatch)
        #expect(error?.message.contains("event 1") == true)
    }

    @Test func decompressionBombIsStoppedByTheOpener() throws {
        let key = try SampleEvents.signingKey()
        var event = SampleEvents.quoted
        event.agentName = String(repeating: "a", count: 300_000)
        let sealed = try MessageSealer(compressionMinBytes: 10).seal(
            subject: "wazuh.agent.001.status", signedPayload: event.signed(with: key).canonicalJSON(), messageID: "m")
        let opener = MessageOpener(
            subjects: try Subjects(prefix: "wazuh"), signingKey: key, maximumDecompressedBytes: 100_000)
        let error = #expect(throws: WireError.self) { try opener.open(sealed) }
        #expect(error?.code == .decompressedTooLarge)
    }

    @Test func additiveFieldsAreCoveredBySignatureAndIgnoredByDecoding() throws {
        let key = try SampleEvents.signingKey()
        var object = SampleEvents.quoted.jsonObject
        object["schema_version"] = .int(2)
        object["extra"] = .object(["nested": .array([.bool(true), .null])])
        let signed = try key.sign(object)
        let payload = try CanonicalJSON.serialize(.object(signed))
        let opened = try self.opener().open(subject: "wazuh.agent.001.status", headers: [], payload: payload)
        guard case .event(let event, _) = opened else {
            Issue.record("expected an event")
            return
        }
        #expect(event.eventID == SampleEvents.quoted.eventID)
        var stripped = signed
        stripped.removeValue(forKey: "extra")
        let error = #expect(throws: WireError.self) {
            try self.opener().open(
                subject: "wazuh.agent.001.status", headers: [], payload: try CanonicalJSON.serialize(.object(stripped)))
        }
        #expect(error?.code == .signatureMismatch)
    }

    @Test func heartbeatOnAnotherNodesSubjectIsRejected() throws {
        let key = try SampleEvents.signingKey()
        let fleet = FleetCounts(
            totalAgents: 1, activeAgents: 1, disconnectedAgents: 0, pendingAgents: 0, neverConnectedAgents: 0)
        let heartbeat = Heartbeat(
            gatewayVersion: "1", uptimeSeconds: 1, natsState: "connected", outboxDepth: 0, outboxParked: 0,
            oldestPendingAgeSeconds: 5, fleet: fleet, timestamp: "t", managerNode: "node-a"
        ).signed(with: key)
        let error = #expect(throws: WireError.self) {
            try self.opener().open(
                subject: "wazuh.manager.node-b.heartbeat", headers: [], payload: heartbeat.canonicalJSON())
        }
        #expect(error?.code == .invalidMessage)
    }
}
