import NIOCore
import Testing

@testable import NATSClient

struct CommandEncoderTests {
    private func encode(_ command: NATSClientCommand) -> String {
        var buffer = ByteBuffer()
        NATSCommandEncoder.write(command, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func encodesPubWithAndWithoutReply() {
        #expect(
            self.encode(.publish(subject: "a", replyTo: nil, headers: nil, payload: ByteBuffer(string: "hi")))
                == "PUB a 2\r\nhi\r\n")
        #expect(
            self.encode(.publish(subject: "a", replyTo: "r", headers: nil, payload: ByteBuffer()))
                == "PUB a r 0\r\n\r\n")
    }

    @Test func encodesHpubWithHeaderAndTotalSizes() {
        let headers: NATSHeaders = ["Nats-Msg-Id": "1"]
        let text = self.encode(
            .publish(subject: "s", replyTo: "r", headers: headers, payload: ByteBuffer(string: "xyz")))
        #expect(text == "HPUB s r 28 31\r\nNATS/1.0\r\nNats-Msg-Id: 1\r\n\r\nxyz\r\n")
    }

    @Test func encodedHpubRoundTripsThroughTheParser() throws {
        let headers: NATSHeaders = ["A": "1", "B": "two words"]
        var buffer = ByteBuffer()
        NATSCommandEncoder.write(
            .publish(subject: "s", replyTo: nil, headers: headers, payload: ByteBuffer(string: "p")), into: &buffer)
        let text = String(buffer: buffer).replacingOccurrences(of: "HPUB s ", with: "HMSG s 7 ")
        var parser = NATSProtocolParser()
        parser.feed(Array(text.utf8))
        let op = try parser.next()
        #expect(op == .message(sid: 7, NATSMessage(subject: "s", headers: headers, payload: ByteBuffer(string: "p"))))
    }

    @Test func encodesSubUnsubPingPongConnect() {
        #expect(self.encode(.subscribe(subject: "a.*", queue: nil, sid: 4)) == "SUB a.* 4\r\n")
        #expect(self.encode(.subscribe(subject: "a", queue: "q", sid: 5)) == "SUB a q 5\r\n")
        #expect(self.encode(.unsubscribe(sid: 4, max: nil)) == "UNSUB 4\r\n")
        #expect(self.encode(.unsubscribe(sid: 4, max: 1)) == "UNSUB 4 1\r\n")
        #expect(self.encode(.ping) == "PING\r\n")
        #expect(self.encode(.pong) == "PONG\r\n")
        #expect(self.encode(.connect("{}")) == "CONNECT {}\r\n")
    }

    @Test func connectPayloadCarriesProtocolFieldsAndURLCredentials() throws {
        var address = try NATSServerAddress.parse("nats://alice:s3cret@127.0.0.1:4222")
        let options = NATSConnectionOptions(servers: [address], name: "gw")
        let json = try ConnectPayload.make(
            options: options, info: NATSServerInfo(serverID: "x", version: "2.9.10", maxPayload: 1024), address: address
        )
        #expect(json.contains("\"headers\":true"))
        #expect(json.contains("\"no_responders\":true"))
        #expect(json.contains("\"verbose\":false"))
        #expect(json.contains("\"pedantic\":false"))
        #expect(json.contains("\"lang\":\"swift\""))
        #expect(json.contains("\"name\":\"gw\""))
        #expect(json.contains("\"user\":\"alice\""))
        #expect(json.contains("\"pass\":\"s3cret\""))
        address = try NATSServerAddress.parse("nats://tok@127.0.0.1")
        let tokenJSON = try ConnectPayload.make(
            options: options, info: NATSServerInfo(serverID: "x", version: "2.9.10", maxPayload: 1024), address: address
        )
        #expect(tokenJSON.contains("\"auth_token\":\"tok\""))
    }

    @Test func connectPayloadSignsTheNonceForNKeys() throws {
        let keyPair = NKeyPair.generate(.user)
        var info = NATSServerInfo(serverID: "x", version: "2.9.10", maxPayload: 1024)
        info.nonce = "abc123"
        let options = NATSConnectionOptions(servers: [NATSServerAddress(host: "127.0.0.1")], auth: .nkey(keyPair))
        let json = try ConnectPayload.make(options: options, info: info, address: options.servers[0])
        #expect(json.contains("\"nkey\":\"\(keyPair.publicKey)\""))
        #expect(json.contains("\"sig\":\"\(try keyPair.signNonce("abc123"))\""))
        info.nonce = nil
        let error = try #require(throws: NATSError.self) {
            try ConnectPayload.make(options: options, info: info, address: options.servers[0])
        }
        #expect(error.code == .authenticationSetup)
    }

    @Test func decimalNumbersAreWrittenWithoutStrings() {
        for value: UInt64 in [0, 7, 9, 10, 99, 100, 400, 65_535, 1_000_000, UInt64.max] {
            var buffer = ByteBuffer()
            NATSCommandEncoder.writeDecimal(value, into: &buffer)
            #expect(String(buffer: buffer) == String(value))
        }
    }

    @Test func payloadSizeMatchesTheEncodedHeaderBlock() throws {
        let headers: NATSHeaders = ["Nats-Msg-Id": "évènement-1", "Content-Type": "application/json"]
        let payload = ByteBuffer(string: "0123456789")
        var encoded = ByteBuffer()
        NATSCommandEncoder.write(
            .publish(subject: "s", replyTo: "r", headers: headers, payload: payload), into: &encoded)
        let bytes = Array(encoded.readableBytesView)
        let lineEnd = try #require(bytes.firstIndex(of: UInt8(ascii: "\r")))
        let fields = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: " ")
        #expect(fields.count == 5)
        let headerSize = try #require(Int(fields[3]))
        let block = String(decoding: bytes[(lineEnd + 2)..<(lineEnd + 2 + headerSize)], as: UTF8.self)
        #expect(block.hasPrefix("NATS/1.0\r\n"))
        #expect(block.hasSuffix("\r\n\r\n"))
        #expect(NATSCommandEncoder.payloadSize(headers: headers, payload: payload) == headerSize + 10)
        #expect(Int(fields[4]) == headerSize + 10)
        #expect(bytes.count == lineEnd + 2 + headerSize + 10 + 2)
        #expect(NATSCommandEncoder.payloadSize(headers: nil, payload: payload) == 10)
        #expect(NATSCommandEncoder.payloadSize(headers: NATSHeaders(), payload: payload) == 12 + 10)
    }
}
