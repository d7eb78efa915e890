import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import NATSClient

struct ProtocolDecoderTests {
    @Test func decoderPassesTheVerifier() throws {
        var headers = NATSHeaders()
        headers.append(name: "K", value: "v")
        let cases: [(String, [NATSServerOp])] = [
            ("PING\r\n", [.ping]),
            ("PONG\r\n+OK\r\n", [.pong, .ok]),
            (
                "MSG a.b 1 3\r\nabc\r\n",
                [.message(sid: 1, NATSMessage(subject: "a.b", payload: ByteBuffer(string: "abc")))]
            ),
            (
                "HMSG a 2 r 18 20\r\nNATS/1.0\r\nK: v\r\n\r\nxy\r\n",
                [
                    .message(
                        sid: 2,
                        NATSMessage(subject: "a", replyTo: "r", headers: headers, payload: ByteBuffer(string: "xy")))
                ]
            ),
            ("-ERR 'Stale Connection'\r\n", [.err("Stale Connection")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: cases,
            decoderFactory: { NATSProtocolDecoder(maxPayloadSize: 1024) })
    }

    @Test func decoderSurfacesTypedErrorForHugeSize() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(NATSProtocolDecoder(maxPayloadSize: 16)))
        let error = try #require(throws: NATSError.self) {
            try channel.writeInbound(ByteBuffer(string: "MSG a 1 17\r\n"))
        }
        #expect(error.code == .payloadTooLarge)
        _ = try? channel.finish()
    }
}
