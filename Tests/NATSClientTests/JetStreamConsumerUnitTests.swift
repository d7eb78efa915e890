import Foundation
import NIOCore
import Testing

@testable import NATSClient

/// The pure parts of pull consumers: reply-subject metadata, status classification, JSON, the pull flow.
struct JetStreamConsumerUnitTests {
    @Test func metadataIsReadFromBothAckSubjectForms() throws {
        let old = try #require(
            JetStreamMessageMetadata(replySubject: "$JS.ACK.WAZUH.reader.2.17.5.1733300000123456789.40"))
        #expect(old.stream == "WAZUH" && old.consumer == "reader" && old.deliveryCount == 2)
        #expect(old.streamSequence == 17 && old.consumerSequence == 5 && old.pending == 40 && old.domain == nil)
        #expect(old.timestampNanoseconds == 1_733_300_000_123_456_789)
        #expect(abs(old.timestamp.timeIntervalSince1970 - 1_733_300_000.123) < 0.001)

        let new = try #require(
            JetStreamMessageMetadata(replySubject: "$JS.ACK.hub.ACCHASH.S.C.1.9.3.1700000000000000000.0.tok"))
        #expect(new.domain == "hub" && new.stream == "S" && new.consumer == "C" && new.streamSequence == 9)
        let noDomain = try #require(
            JetStreamMessageMetadata(replySubject: "$JS.ACK._.ACCHASH.S.C.1.9.3.1700000000000000000.0"))
        #expect(noDomain.domain == nil && noDomain.consumerSequence == 3)
    }

    @Test func subjectsThatAreNotAckSubjectsHaveNoMetadata() {
        for subject in [
            "_INBOX.abc", "$JS.ACK.S.C.1.2.3.4", "$JS.ACK.S.C.x.2.3.4.5", "$JS.NAK.S.C.1.2.3.4.5",
            "$JS.ACK..C.1.2.3.4.5", "$JS.ACK.S.C.1.2.3.4.5.6.7.8.9.10", "$JS.ACK.S.C.1.-2.3.4.5",
        ] {
            #expect(JetStreamMessageMetadata(replySubject: subject) == nil, "\(subject)")
        }
    }

    private func status(_ code: Int, _ description: String = "", pending: Int? = nil) -> NATSMessage {
        var headers = NATSHeaders()
        if let pending { headers.append(name: "Nats-Pending-Messages", value: String(pending)) }
        return NATSMessage(
            subject: "_INBOX.x.3", headers: headers, payload: ByteBuffer(),
            status: NATSStatus(code: code, description: description))
    }

    @Test func statusMessagesOfPullRequestsAreClassified() {
        #expect(PullStatus(self.status(100, "Idle Heartbeat")) == .heartbeat)
        #expect(PullStatus(self.status(404, "No Messages")) == .requestEnded(code: 404, pendingMessages: nil))
        #expect(
            PullStatus(self.status(408, "Request Timeout", pending: 7)) == .requestEnded(code: 408, pendingMessages: 7))
        #expect(PullStatus(self.status(409, "Exceeded MaxWaiting")) == .requestEnded(code: 409, pendingMessages: nil))
        #expect(PullStatus(self.status(409, "Leadership Change")) == .requestEnded(code: 409, pendingMessages: nil))
        #expect(PullStatus(self.status(409, "Server Shutdown")) == .requestEnded(code: 409, pendingMessages: nil))
        #expect(
            PullStatus(self.status(409, "Consumer Deleted"))
                == .consumerFailed(code: 409, description: "Consumer Deleted"))
        #expect(
            PullStatus(self.status(409, "Exceeded MaxRequestBatch of 10"))
                == .consumerFailed(code: 409, description: "Exceeded MaxRequestBatch of 10"))
        #expect(PullStatus(self.status(503)) == .noResponders)
        #expect(PullStatus(self.status(400, "Bad Request")) == .consumerFailed(code: 400, description: "Bad Request"))
    }

    @Test func deliveriesAreMessagesAndAnythingElseIsUnexpected() throws {
        let delivered = NATSMessage(
            subject: "wazuh.agent.001.status", replyTo: "$JS.ACK.W.c.1.4.4.1700000000000000000.2",
            payload: ByteBuffer(string: "{}"))
        guard case .message(let metadata) = PullStatus(delivered) else {
            Issue.record("not a message")
            return
        }
        #expect(metadata.streamSequence == 4 && metadata.pending == 2)
        let stray = NATSMessage(subject: "_INBOX.x.1", replyTo: nil, payload: ByteBuffer(string: "hi"))
        guard case .unexpected = PullStatus(stray) else {
            Issue.record("a stray message must not count as a delivery")
            return
        }
    }

    private func json(_ value: some Encodable) throws -> [String: Any] {
        let data = try JSONEncoder().encode(value)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func consumerConfigEncodesJetStreamFieldsInNanoseconds() throws {
        let config = ConsumerConfig(
            durableName: "reader", deliverPolicy: .byStartSequence(42), ackPolicy: .explicit, ackWait: .seconds(2),
            maxDeliver: 5, filterSubject: "wazuh.agent.*.status", maxAckPending: 100)
        let object = try self.json(config)
        #expect(object["durable_name"] as? String == "reader")
        #expect(object["deliver_policy"] as? String == "by_start_sequence")
        #expect(object["opt_start_seq"] as? Int == 42)
        #expect(object["ack_policy"] as? String == "explicit")
        #expect(object["ack_wait"] as? Int == 2_000_000_000)
        #expect(object["max_deliver"] as? Int == 5)
        #expect(object["filter_subject"] as? String == "wazuh.agent.*.status")
        #expect(object["opt_start_time"] == nil && object["inactive_threshold"] == nil)
        let decoded = try JSONDecoder().decode(ConsumerConfig.self, from: JSONEncoder().encode(config))
        #expect(decoded == config)
    }

    @Test func startTimesTravelAsRFC3339AndServerNanosecondsAreRead() throws {
        let start = Date(timeIntervalSince1970: 1_733_300_000.25)
        let object = try self.json(ConsumerConfig(deliverPolicy: .byStartTime(start), ackPolicy: .none))
        #expect(object["deliver_policy"] as? String == "by_start_time")
        #expect(object["opt_start_time"] as? String == "2024-12-04T08:13:20.250000Z")
        let server = Data(
            #"{"deliver_policy":"by_start_time","opt_start_time":"2024-12-04T08:13:20.250123456Z","ack_policy":"none","filter_subject":""}"#
                .utf8)
        let decoded = try JSONDecoder().decode(ConsumerConfig.self, from: server)
        guard case .byStartTime(let date) = decoded.deliverPolicy else {
            Issue.record("deliver policy \(decoded.deliverPolicy)")
            return
        }
        #expect(abs(date.timeIntervalSince1970 - 1_733_300_000.25) < 0.001)
        #expect(decoded.filterSubject == nil && decoded.ackPolicy == ConsumerConfig.AckPolicy.none)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ConsumerConfig.self, from: Data(#"{"deliver_policy":"sometimes"}"#.utf8))
        }
    }

    @Test func pullRequestsAndAcknowledgementsHaveTheServersFormat() throws {
        let object = try self.json(
            PullRequest(batch: 10, expires: .seconds(30), noWait: true, idleHeartbeat: .seconds(5)))
        #expect(object["batch"] as? Int == 10 && object["no_wait"] as? Bool == true)
        #expect(object["expires"] as? Int == 30_000_000_000 && object["idle_heartbeat"] as? Int == 5_000_000_000)
        #expect(try self.json(PullRequest(batch: 1)).keys.sorted() == ["batch"])
        #expect(JetStreamAck.ack.body == "+ACK" && JetStreamAck.term.body == "+TERM")
        #expect(JetStreamAck.inProgress.body == "+WPI" && JetStreamAck.nak(delay: nil).body == "-NAK")
        #expect(JetStreamAck.nak(delay: .milliseconds(1500)).body == #"-NAK {"delay":1500000000}"#)
    }

    @Test func consumerAndStreamNamesMustBeSubjectTokens() {
        for name in ["", "a.b", "a*", "a>", "a b", "tab\t"] {
            #expect(throws: NATSError.self) { try JetStreamContext.validateName(name, what: "consumer") }
        }
        #expect(throws: Never.self) { try JetStreamContext.validateName("reader-1_A", what: "consumer") }
    }
}

/// ``PullFlow``: keeping requests outstanding, with a clock the test moves.
struct PullFlowTests {
    private let start = ContinuousClock.now
    private let settings = PullFlow.Settings(batch: 10, expires: .seconds(30), heartbeat: .seconds(5))

    @Test func asksForABatchAndMoreOnceHalfOfItArrived() {
        var flow = PullFlow(settings: self.settings, now: self.start)
        #expect(flow.refill(now: self.start) == .pull(id: 1, batch: 10))
        #expect(flow.refill(now: self.start) == .none)
        for _ in 0..<4 { #expect(flow.received(now: self.start) == .none) }
        #expect(flow.outstanding == 6)
        #expect(flow.received(now: self.start) == .pull(id: 2, batch: 5))
        #expect(flow.outstanding == 10 && flow.pulls.map(\.id) == [1, 2])
        for _ in 0..<5 { _ = flow.received(now: self.start) }
        // The oldest request is served first: it is done, and half a batch is asked for again.
        #expect(flow.pulls.map(\.id) == [2, 3] && flow.outstanding == 10)
    }

    @Test func anExpiredRequestIsReplaced() {
        var flow = PullFlow(settings: self.settings, now: self.start)
        _ = flow.refill(now: self.start)
        #expect(flow.ended(id: 1, now: self.start + .seconds(30)) == .pull(id: 2, batch: 10))
        #expect(flow.ended(id: 99, now: self.start + .seconds(30)) == .none, "an unknown request changes nothing")
        // The server never answered: dropped at its deadline and asked again.
        if case .quiet(let action) = flow.tick(now: self.start + .seconds(66)) {
            #expect(action == .pull(id: 3, batch: 10))
        } else {
            Issue.record("heartbeats of a dropped request are not missed")
        }
    }

    @Test func heartbeatsKeepRequestsAliveAndTheirAbsenceRenewsThem() {
        var flow = PullFlow(settings: self.settings, now: self.start)
        _ = flow.refill(now: self.start)
        flow.heartbeat(now: self.start + .seconds(9))
        #expect(flow.tick(now: self.start + .seconds(18)) == .quiet(.none))
        #expect(flow.tick(now: self.start + .seconds(20)) == .stalled(.pull(id: 2, batch: 10)))
        #expect(flow.pulls.map(\.id) == [2])
        #expect(flow.tick(now: self.start + .seconds(29)) == .quiet(.none), "the new request has its own grace")
    }

    @Test func aReconnectAsksAgainAndNoRespondersPausesForAHeartbeat() {
        var flow = PullFlow(settings: self.settings, now: self.start)
        _ = flow.refill(now: self.start)
        _ = flow.received(now: self.start)
        #expect(flow.reconnected(now: self.start + .seconds(1)) == .pull(id: 2, batch: 10))
        flow.unavailable(now: self.start + .seconds(2))
        #expect(flow.outstanding == 0)
        #expect(flow.tick(now: self.start + .seconds(3)) == .quiet(.none))
        #expect(flow.tick(now: self.start + .seconds(7)) == .quiet(.pull(id: 3, batch: 10)))
        // A delivery for a request already forgotten is not counted against the new one twice.
        var fresh = PullFlow(settings: self.settings, now: self.start)
        #expect(fresh.received(now: self.start) == .pull(id: 1, batch: 10))
    }

    @Test func neverAsksForMoreThanTheLimitInAll() {
        var flow = PullFlow(
            settings: PullFlow.Settings(batch: 4, expires: .seconds(30), heartbeat: .seconds(5), maxMessages: 6),
            now: self.start)
        #expect(flow.refill(now: self.start) == .pull(id: 1, batch: 4))
        _ = flow.received(now: self.start)
        #expect(flow.received(now: self.start) == .pull(id: 2, batch: 2))
        for _ in 0..<4 { #expect(flow.received(now: self.start) == .none) }
        #expect(flow.outstanding == 0)
        #expect(flow.tick(now: self.start + .seconds(60)) == .quiet(.none), "idle, but nothing more to ask for")
    }

    @Test func heartbeatsAreKeptBelowHalfTheExpiry() {
        #expect(PullFlow.Settings(batch: 0, expires: .seconds(4), heartbeat: .seconds(5)).heartbeat == .seconds(2))
        #expect(PullFlow.Settings(batch: 0).batch == 1)
    }
}
