import Testing

@testable import WireContract

/// Contract 1.1 additions: anomaly events on their subjects, the heartbeat's audit head, audit records.
struct SecuritySignalsWireTests {
    let key = try! SigningKey(bytes: Array(repeating: 9, count: 32))

    func anomaly(agent: String?) -> AnomalyEvent {
        AnomalyEvent(
            eventID: AnomalyEvent.makeID(kind: .flapping, basis: ["7", "1700000000", "1716896200"]), kind: .flapping,
            severity: "warning", agentID: agent, agentName: agent == nil ? nil : "web-07", managerNode: "mgr",
            nodeName: "node01", observed: 11, threshold: 10, fleetSize: nil, windowSeconds: 600,
            firstSeen: "2024-05-28T11:33:20Z", lastSeen: "2024-05-28T11:36:40Z",
            explanation: "11 status changes within 600s (more than 10)", timestamp: "2024-05-28T11:50:00.000Z"
        ).signed(with: self.key)
    }

    @Test func anomaliesOpenOnBothSubjectsAndMustMatchTheSubjectsAgent() throws {
        let subjects = try Subjects(prefix: "wazuh")
        let opener = MessageOpener(subjects: subjects, signingKey: self.key)
        let event = self.anomaly(agent: "007")
        #expect(event.eventID.hasPrefix("anom_flapping_") && event.eventID.count == "anom_flapping_".count + 20)
        for subject in [subjects.anomaly, subjects.anomaly(agentID: 7)] {
            let sealed = try MessageSealer(compressionMinBytes: 10).seal(
                subject: subject, signedPayload: event.canonicalJSON(), messageID: event.eventID)
            #expect(try opener.open(sealed) == .anomaly(event))
        }
        #expect(subjects.classify("wazuh.agent.007.anomaly") == .anomaly(agentToken: "007"))
        let elsewhere = try MessageSealer().seal(
            subject: subjects.anomaly(agentID: 8), signedPayload: event.canonicalJSON(), messageID: event.eventID)
        #expect(throws: WireError.self) { try opener.open(elsewhere) }

        var forged = event
        forged.observed = 3
        let tampered = try MessageSealer().seal(
            subject: subjects.anomaly, signedPayload: forged.canonicalJSON(), messageID: event.eventID)
        #expect(throws: WireError.self) { try opener.open(tampered) }
    }

    @Test func theHeartbeatCarriesTheAuditHeadOnlyWhenThereIsOne() throws {
        let fleet = FleetCounts(
            totalAgents: 1, activeAgents: 1, disconnectedAgents: 0, pendingAgents: 0, neverConnectedAgents: 0)
        let plain = Heartbeat(
            gatewayVersion: "1", uptimeSeconds: 1, natsState: "connected", outboxDepth: 0, outboxParked: 0,
            oldestPendingAgeSeconds: nil, fleet: fleet, timestamp: "2024-05-28T12:00:00Z", managerNode: "mgr")
        #expect(plain.jsonObject["audit_head"] == nil)
        var withHead = plain
        withHead.auditHead = AuditHead(sequence: 42, hash: Array(repeating: 0xAB, count: 32))
        let object = withHead.signed(with: self.key).jsonObject
        #expect(object["audit_head"]?.objectValue?["hash"] == .string(String(repeating: "ab", count: 32)))
        #expect(try Heartbeat(jsonObject: object).auditHead == withHead.auditHead)
        #expect(self.key.verify(object))
    }

    @Test func anAuditRecordsHashCoversEveryField() {
        let base = AuditRecord.chained(
            sequence: 1, recordedAt: 1_716_897_000_000, outboxSeq: 10, subject: "wazuh.agent.001.status",
            messageID: "evt_001_1_abc", streamSequence: 5, payloadSHA256: AuditRecord.sha256([1, 2, 3]),
            previousHash: AuditRecord.genesisHash)
        #expect(base.computedHash() == base.hash && base.hash.count == 32)
        var variants: [AuditRecord] = []
        for change in 0..<7 {
            var copy = base
            switch change {
            case 0: copy.sequence = 2
            case 1: copy.recordedAt += 1
            case 2: copy.outboxSeq = 11
            case 3: copy.subject = "wazuh.agent.002.status"
            case 4: copy.messageID = "evt_001_1_abd"
            case 5: copy.streamSequence = nil
            default: copy.payloadSHA256 = AuditRecord.sha256([1, 2, 4])
            }
            variants.append(copy)
        }
        #expect(variants.allSatisfy { $0.computedHash() != base.hash })
        #expect(Hex.decode(Hex.encode(base.hash)) == base.hash)
        #expect(Hex.decode("abc") == nil && Hex.decode("zz") == nil)

        var verifier = AuditChainVerifier()
        #expect(verifier.check(base) == nil)
        let next = AuditRecord.chained(
            sequence: 2, recordedAt: 1, outboxSeq: 11, subject: "s", messageID: "m", streamSequence: nil,
            payloadSHA256: AuditRecord.sha256([]), previousHash: base.hash)
        #expect(verifier.check(next) == nil && verifier.checked == 2 && verifier.lastHash == next.hash)
    }
}
