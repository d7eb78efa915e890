import NIOCore
import Testing

@testable import NATSClient

struct ProtocolParserTests {
    private func parseAll(_ text: String, maxPayload: Int = 1024 * 1024) throws -> [NATSServerOp] {
        var parser = NATSProtocolParser(maxPayloadSize: maxPayload)
        parser.feed(Array(text.utf8))
        var ops: [NATSServerOp] = []
        while let op = try parser.next() {
            ops.append(op)
        }
        return ops
    }

    private static let stream =
        "INFO {\"server_id\":\"x\",\"version\":\"2.9.10\",\"max_payload\":1048576}\r\n"
        + "PING\r\nPONG\r\n+OK\r\n-ERR 'Authorization Violation'\r\n"
        + "MSG foo.bar 9 5\r\nhello\r\n"
        + "MSG foo.bar 10 reply.to 0\r\n\r\n"
        + "HMSG foo 3 24 29\r\nNATS/1.0\r\nA: b\r\nA: c\r\n\r\nworld\r\n"
        + "HMSG _INBOX.x.1 4 16 16\r\nNATS/1.0 503\r\n\r\n\r\n"
        + "HMSG s 5 r 32 32\r\nNATS/1.0 408 Request Timeout\r\n\r\n\r\n"

    private static func expectedOps() -> [NATSServerOp] {
        var headers = NATSHeaders()
        headers.append(name: "A", value: "b")
        headers.append(name: "A", value: "c")
        return [
            .info("{\"server_id\":\"x\",\"version\":\"2.9.10\",\"max_payload\":1048576}"),
            .ping, .pong, .ok, .err("Authorization Violation"),
            .message(sid: 9, NATSMessage(subject: "foo.bar", payload: ByteBuffer(string: "hello"))),
            .message(sid: 10, NATSMessage(subject: "foo.bar", replyTo: "reply.to", payload: ByteBuffer())),
            .message(sid: 3, NATSMessage(subject: "foo", headers: headers, payload: ByteBuffer(string: "world"))),
            .message(
                sid: 4,
                NATSMessage(
                    subject: "_INBOX.x.1", headers: NATSHeaders(), payload: ByteBuffer(),
                    status: NATSStatus(code: 503))),
            .message(
                sid: 5,
                NATSMessage(
                    subject: "s", replyTo: "r", headers: NATSHeaders(), payload: ByteBuffer(),
                    status: NATSStatus(code: 408, description: "Request Timeout"))),
        ]
    }

    @Test func parsesEveryOperation() throws {
        #expect(try self.parseAll(Self.stream) == Self.expectedOps())
    }

    @Test func parsesIdenticallyWhenSplitAtEveryByte() throws {
        let bytes = Array(Self.stream.utf8)
        for split in 0...bytes.count {
            var parser = NATSProtocolParser()
            var ops: [NATSServerOp] = []
            parser.feed(bytes[0..<split])
            while let op = try parser.next() { ops.append(op) }
            parser.feed(bytes[split...])
            while let op = try parser.next() { ops.append(op) }
            #expect(ops == Self.expectedOps(), "split at \(split)")
        }
    }

    @Test func parsesWhenFedOneByteAtATime() throws {
        var parser = NATSProtocolParser()
        var ops: [NATSServerOp] = []
        for byte in Self.stream.utf8 {
            parser.feed([byte])
            while let op = try parser.next() { ops.append(op) }
        }
        #expect(ops == Self.expectedOps())
    }

    @Test func operationNamesAreCaseInsensitive() throws {
        #expect(try self.parseAll("ping\r\npong\r\nmsg a 1 1\r\nx\r\n").count == 3)
    }

    @Test func inPlaceMessagePathAgreesWithTheGeneralPath() throws {
        // Upper-case MSG/HMSG lines take the allocation-free path; lower case and tabs take the general one.
        let lines = [
            ("MSG a.b 1 5\r\nhello\r\n", "msg a.b 1 5\r\nhello\r\n"),
            ("MSG a.b  12   _INBOX.x.J7 5\r\nhello\r\n", "msg\ta.b\t12\t_INBOX.x.J7\t5\r\nhello\r\n"),
            (
                "HMSG s 5 r 32 32\r\nNATS/1.0 408 Request Timeout\r\n\r\n\r\n",
                "hmsg s 5 r 32 32\r\nNATS/1.0 408 Request Timeout\r\n\r\n\r\n"
            ),
        ]
        for (fast, general) in lines {
            #expect(try self.parseAll(fast) == self.parseAll(general))
            #expect(try self.parseAll(fast).count == 1)
        }
        for bad in ["MSG a.b x 5\r\nhello\r\n", "MSG a 1 2 3 4\r\nx\r\n", "HMSG a 1 9 5\r\nhello\r\n"] {
            #expect(throws: NATSError.self) { try self.parseAll(bad) }
        }
    }

    @Test func rejectsUnknownOperation() {
        #expect(throws: NATSError.self) { try self.parseAll("HELLO world\r\n") }
    }

    @Test func rejectsControlLineLongerThan4KiBWithoutTerminator() throws {
        var parser = NATSProtocolParser()
        parser.feed(Array(repeating: UInt8(ascii: "A"), count: 5000))
        let error = try #require(throws: NATSError.self) { try parser.next() }
        #expect(error.code == .controlLineTooLong)
    }

    @Test func rejectsTerminatedControlLineLongerThan4KiB() throws {
        let line = "MSG " + String(repeating: "a", count: 4100) + " 1 1\r\nx\r\n"
        let error = try #require(throws: NATSError.self) { try self.parseAll(line) }
        #expect(error.code == .controlLineTooLong)
    }

    @Test func rejectsHugeAnnouncedSizeBeforeItsBytesArrive() throws {
        var parser = NATSProtocolParser(maxPayloadSize: 1024)
        parser.feed(Array("MSG a 1 999999999999\r\n".utf8))
        let error = try #require(throws: NATSError.self) { try parser.next() }
        #expect(error.code == .payloadTooLarge)
    }

    @Test func rejectsSizeThatWouldOverflow() throws {
        let error = try #require(throws: NATSError.self) {
            try self.parseAll("MSG a 1 99999999999999999999999999\r\n")
        }
        #expect(error.code == .protocolViolation)
    }

    @Test func waitsForPayloadWithoutConsuming() throws {
        var parser = NATSProtocolParser()
        parser.feed(Array("MSG a 1 10\r\n01234".utf8))
        #expect(try parser.next() == nil)
        parser.feed(Array("56789\r\n".utf8))
        #expect(
            try parser.next() == .message(sid: 1, NATSMessage(subject: "a", payload: ByteBuffer(string: "0123456789"))))
    }

    @Test func rejectsPayloadWithoutTrailingCRLF() {
        #expect(throws: NATSError.self) { try self.parseAll("MSG a 1 2\r\nabcd\r\n") }
    }

    @Test func rejectsBareLineFeed() {
        #expect(throws: NATSError.self) { try self.parseAll("PING\n") }
    }

    @Test func rejectsHeaderSizeLargerThanTotal() {
        #expect(throws: NATSError.self) { try self.parseAll("HMSG a 1 20 10\r\n0123456789\r\n") }
    }

    @Test func rejectsHeaderBlockWithoutVersionLine() {
        #expect(throws: NATSError.self) { try self.parseAll("HMSG a 1 8 8\r\nA: b\r\n\r\n\r\n") }
    }

    @Test func rejectsWrongArgumentCounts() {
        #expect(throws: NATSError.self) { try self.parseAll("MSG a\r\n") }
        #expect(throws: NATSError.self) { try self.parseAll("MSG a 1 2 3 4\r\n") }
        #expect(throws: NATSError.self) { try self.parseAll("HMSG a 1 2\r\n") }
        #expect(throws: NATSError.self) { try self.parseAll("MSG a x 1\r\nx\r\n") }
    }

    @Test func garbageNeverCrashesTheParser() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("MSGHPINOKERF -+\r\n0123456789ab".utf8)
        for _ in 0..<2000 {
            var parser = NATSProtocolParser(maxPayloadSize: 4096)
            let length = Int.random(in: 0..<200, using: &generator)
            parser.feed((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 })
            for _ in 0..<50 {
                guard let op = try? parser.next() else { break }
                _ = op
            }
        }
    }

    @Test func headerLookupIgnoresCase() throws {
        let (status, headers) = try NATSProtocolParser.parseHeaders(
            Array("NATS/1.0\r\nNats-Msg-Id: abc\r\nX:  spaced \r\n\r\n".utf8))
        #expect(status == nil)
        #expect(headers["nats-msg-id"] == "abc")
        #expect(headers["x"] == "spaced")
    }
}
