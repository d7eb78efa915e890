import Testing
import WazuhSource

/// wazuh-db's framing and reply parsing, byte by byte, with no socket.
@Suite struct WazuhDBFramingTests {
    static func frame(_ text: String) throws -> [UInt8] { try WazuhDBFrame.encode(Array(text.utf8)) }

    @Test func encodesALittleEndianLengthBeforeThePayload() throws {
        #expect(try WazuhDBFrame.encode(Array("ok".utf8)) == [2, 0, 0, 0, 0x6F, 0x6B])
        let large = try WazuhDBFrame.encode([UInt8](repeating: 0x61, count: 0x0102))
        #expect(Array(large.prefix(4)) == [0x02, 0x01, 0, 0])
    }

    @Test func decodesFramesFedOneByteAtATime() throws {
        let stream = try Self.frame("ok [1]") + Self.frame("due [{\"id\":2}]") + Self.frame("") + Self.frame("err x")
        var decoder = WazuhDBFrame.Decoder()
        var payloads: [String] = []
        for byte in stream {
            decoder.feed([byte])
            while let payload = try decoder.next() { payloads.append(String(decoding: payload, as: UTF8.self)) }
        }
        #expect(payloads == ["ok [1]", "due [{\"id\":2}]", "", "err x"])
        #expect(decoder.bufferedBytes == 0)
    }

    @Test func decodesManyFramesFedAtOnceAndKeepsAPartialOne() throws {
        let whole = try (0..<50).flatMap { try Self.frame("ok [\($0)]") }
        let partial = try Self.frame("ok tail")
        var decoder = WazuhDBFrame.Decoder()
        decoder.feed(whole + partial.prefix(6))
        var count = 0
        while try decoder.next() != nil { count += 1 }
        #expect(count == 50)
        decoder.feed(partial.dropFirst(6))
        #expect(try decoder.next().map { String(decoding: $0, as: UTF8.self) } == "ok tail")
    }

    @Test func acceptsAPayloadOfExactly64KiB() throws {
        let payload = Array("ok ".utf8) + [UInt8](repeating: 0x20, count: WazuhDBFrame.maximumPayload - 3)
        var decoder = WazuhDBFrame.Decoder()
        decoder.feed(try WazuhDBFrame.encode(payload))
        #expect(try decoder.next()?.count == WazuhDBFrame.maximumPayload)
    }

    @Test func refusesALengthOverTheLimitAndStaysFailed() throws {
        #expect(throws: WazuhSourceError.self) {
            try WazuhDBFrame.encode([UInt8](repeating: 0, count: WazuhDBFrame.maximumPayload + 1))
        }
        var decoder = WazuhDBFrame.Decoder()
        decoder.feed([0x01, 0x00, 0x01, 0x00])  // 65537
        do throws(WazuhSourceError) {
            _ = try decoder.next()
            Issue.record("an over-long length was accepted")
        } catch {
            #expect(error.code == .malformedReply)
            #expect(error.description.contains("65537"))
        }
        decoder.feed(try Self.frame("ok"))
        #expect(throws: WazuhSourceError.self) { try decoder.next() }
    }

    @Test func parsesOkDueAndErrReplies() throws {
        #expect(try WazuhDBReply.parse(Array("ok [{\"id\":1}]".utf8)) == .ok(Array("[{\"id\":1}]".utf8)))
        #expect(try WazuhDBReply.parse(Array("ok".utf8)) == .ok([]))
        #expect(try WazuhDBReply.parse(Array("due [{\"id\":1}]".utf8)) == .due(Array("[{\"id\":1}]".utf8)))
        #expect(try WazuhDBReply.parse(Array("err Invalid DB query syntax".utf8)) == .err("Invalid DB query syntax"))
    }

    @Test func rejectsAnythingElseAsMalformed() {
        for text in ["", "OK [1]", "okay", "error x", "duex", "\u{0}ok"] {
            do throws(WazuhSourceError) {
                _ = try WazuhDBReply.parse(Array(text.utf8))
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                #expect(error.code == .malformedReply)
            }
        }
    }

    @Test func decodesAgentRowsWithNullColumnsLeftOut() throws {
        let json = Array(
            """
            [{"id":1,"name":"web-01","ip":"10.0.0.1","connection_status":"active","last_keepalive":1767225600,\
            "date_add":1767000000,"disconnection_time":0,"status_code":0,"node_name":"node01"},
            {"id":2,"name":"db\\"02","connection_status":"never_connected","date_add":1767000001}]
            """.utf8)
        let agents = try WazuhDBRows.agents(json)
        #expect(agents.count == 2)
        #expect(agents[0].lastKeepalive == 1_767_225_600 && agents[0].nodeName == "node01")
        #expect(agents[1].name == "db\"02" && agents[1].ip == nil && agents[1].lastKeepalive == nil)
    }

    @Test func rejectsRowsOfTheWrongShape() {
        for json in ["{\"id\":1}", "[1,2]", "[{\"name\":\"x\",\"date_add\":1}]", "[{\"id\":1,\"name\":\"x\"", "nul"] {
            #expect(throws: WazuhSourceError.self) { try WazuhDBRows.agents(Array(json.utf8)) }
        }
    }
}
