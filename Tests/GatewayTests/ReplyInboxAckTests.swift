import NATSClient
import NIOCore
import Testing

@testable import Gateway

/// The reply-inbox publish path reads its PubAcks with NATSClient's parser and maps errors the way the
/// pipelined path does: the stream sequence (also of a duplicate), JetStream API errors sorted into
/// transient and rejected, anything else a plain failure.
@Suite struct ReplyInboxAckTests {
    private func interpret(_ payload: String, status: NATSStatus? = nil) throws -> UInt64? {
        let reply = NATSMessage(subject: "_INBOX.x.1", payload: ByteBuffer(string: payload), status: status)
        return try NATSDeliveryTransport.interpret(reply, isJetStream: true, subject: "wazuh.agent.status")
    }

    @Test func aPubAckGivesItsSequenceAlsoForADuplicate() throws {
        #expect(try interpret(#"{"stream":"WAZUH","seq":5}"#) == 5)
        #expect(try interpret(#"{"stream":"WAZUH", "seq":7, "duplicate":true}"#) == 7)
        #expect(try interpret(#"{"stream":"WAZUH","domain":"hub","seq":9,"duplicate":false}"#) == 9)
        // Not the compact shape the scanner reads: the full decoder takes it.
        #expect(try interpret(#"{ "seq" : 11 , "stream" : "W\u0041ZUH" }"#) == 11)
    }

    @Test func apiErrorsAreSortedIntoTransientAndRejected() throws {
        let unavailable = try #require(throws: DeliveryFailure.self) {
            try interpret(#"{"error":{"code":503,"err_code":10077,"description":"no quorum"}}"#)
        }
        #expect(unavailable.code == .jetStreamTransient)
        #expect(unavailable.message == "JetStream API error 503 (err_code 10077): no quorum")
        let mismatch = try #require(throws: DeliveryFailure.self) {
            try interpret(#"{"error":{"code":400,"err_code":10060,"description":"expected stream does not match"}}"#)
        }
        #expect(mismatch.code == .jetStreamRejected)
        let bare = try #require(throws: DeliveryFailure.self) { try interpret(#"{"error":{"code":400}}"#) }
        #expect(bare.code == .jetStreamRejected)
        #expect(bare.message == "JetStream API error 400: unknown")
    }

    @Test func somethingElseIsAPlainFailure() throws {
        for payload in ["not json", #"{"stream":"WAZUH"}"#, "[1,2]"] {
            let failure = try #require(throws: DeliveryFailure.self) { try interpret(payload) }
            #expect(failure.code == .other, "\(payload)")
        }
        let none = try #require(throws: DeliveryFailure.self) {
            try interpret("", status: NATSStatus(code: NATSStatus.noRespondersCode))
        }
        #expect(none.code == .noResponders)
    }

    @Test func coreModesHaveNoSequence() throws {
        let reply = NATSMessage(subject: "_INBOX.x.1", payload: ByteBuffer(string: "ok"))
        #expect(try NATSDeliveryTransport.interpret(reply, isJetStream: false, subject: "s") == nil)
    }
}
