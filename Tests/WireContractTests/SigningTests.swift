import Testing

@testable import WireContract

struct SigningTests {
    /// Computed once with Python: base64(hmac.new(bytes(range(32)), canonical, sha256).digest()).
    static let knownSignature = "wIRjTO/T19a35L97Ht/79iqmg1L0TMNbNlMfxy7NhtI="

    @Test func eventSignatureMatchesPythonKnownAnswer() throws {
        let signed = SampleEvents.quoted.signed(with: try SampleEvents.signingKey())
        #expect(signed.signature == Self.knownSignature)
        #expect(try SampleEvents.signingKey().verify(signed.jsonObject))
    }

    @Test func signatureMemberIsExcludedFromSignedBytes() throws {
        let key = try SampleEvents.signingKey()
        var event = SampleEvents.quoted
        event.signature = "something else entirely"
        #expect(try key.signature(of: event.jsonObject) == Self.knownSignature)
    }

    @Test func anyAlteredFieldFailsVerification() throws {
        let key = try SampleEvents.signingKey()
        let signed = SampleEvents.quoted.signed(with: key).jsonObject
        for field in signed.keys where field != "signature" {
            var altered = signed
            altered[field] = .string("tampered")
            #expect(!key.verify(altered), "\(field)")
        }
        var extra = signed
        extra["injected"] = .bool(true)
        #expect(!key.verify(extra))
        var missing = signed
        missing.removeValue(forKey: "signature")
        #expect(!key.verify(missing))
        var garbage = signed
        garbage["signature"] = .string("not base64!")
        #expect(!key.verify(garbage))
        var wrongType = signed
        wrongType["signature"] = .int(1)
        #expect(!key.verify(wrongType))
    }

    @Test func anotherKeyFailsVerification() throws {
        let signed = SampleEvents.quoted.signed(with: try SampleEvents.signingKey()).jsonObject
        let other = try SigningKey(bytes: [UInt8](repeating: 1, count: 32))
        #expect(!other.verify(signed))
    }

    @Test func batchIsSignedOverItsSignedEvents() throws {
        let key = try SampleEvents.signingKey()
        let events = (1...3).map { SampleEvents.event(agent: $0).signed(with: key) }
        let summary = BatchSummary(
            fleet: FleetCounts(
                totalAgents: 10, activeAgents: 7, disconnectedAgents: 3, pendingAgents: 0, neverConnectedAgents: 0),
            changesDetected: 3)
        let batch = BatchStatusUpdate(
            batchID: BatchStatusUpdate.makeBatchID(time: 1_716_897_300, eventIDs: events.map(\.eventID)),
            managerNode: "node01", timestamp: "2024-05-28T12:00:00Z", events: events, summary: summary
        ).signed(with: key)
        let object = batch.jsonObject
        #expect(key.verify(object))
        for event in object["events"]?.arrayValue ?? [] {
            #expect(key.verify(event.objectValue ?? [:]))
        }
        // Altering a nested event breaks the batch signature as well as the event's.
        var events2 = object["events"]?.arrayValue ?? []
        var first = events2[0].objectValue ?? [:]
        first["agent_name"] = .string("evil")
        events2[0] = .object(first)
        var altered = object
        altered["events"] = .array(events2)
        #expect(!key.verify(altered))
        #expect(!key.verify(first))
    }

    @Test func signatureMatchesPythonHMACLive() throws {
        guard PythonRunner.isAvailable else { return }
        let key = try SampleEvents.signingKey()
        let event = SampleEvents.event(agent: 42, name: "ünï\"😀").signed(with: key)
        var unsigned = event
        unsigned.signature = nil
        let python = try PythonRunner.run(
            "import sys,hmac,hashlib,base64; d=sys.stdin.buffer.read();"
                + " sys.stdout.write(base64.b64encode(hmac.new(bytes(range(32)), d, hashlib.sha256).digest()).decode())",
            input: unsigned.canonicalJSON())
        #expect(String(decoding: python, as: UTF8.self) == event.signature)
    }
}
