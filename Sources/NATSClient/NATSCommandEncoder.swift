import NIOCore

/// One command the client sends to the server.
public enum NATSClientCommand: Sendable, Equatable {
    /// `CONNECT {json}`.
    case connect(String)
    case ping
    case pong
    /// `PUB` when `headers` is `nil`, otherwise `HPUB`.
    case publish(subject: String, replyTo: String?, headers: NATSHeaders?, payload: ByteBuffer)
    case subscribe(subject: String, queue: String?, sid: UInt64)
    /// `UNSUB sid [max]`.
    case unsubscribe(sid: UInt64, max: Int?)
}

/// Encodes ``NATSClientCommand`` values into protocol bytes.
///
/// The static ``write(_:into:)`` is what the connection uses to batch many commands into one buffer; the
/// `MessageToByteEncoder` conformance lets the same encoding run in a channel pipeline.
public struct NATSCommandEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = NATSClientCommand

    public init() {}

    public func encode(data: NATSClientCommand, out: inout ByteBuffer) throws {
        Self.write(data, into: &out)
    }

    /// Appends the bytes of `command` to `buffer`.
    public static func write(_ command: NATSClientCommand, into buffer: inout ByteBuffer) {
        switch command {
        case .connect(let json):
            buffer.writeString("CONNECT ")
            buffer.writeString(json)
            buffer.writeString("\r\n")
        case .ping:
            buffer.writeString("PING\r\n")
        case .pong:
            buffer.writeString("PONG\r\n")
        case .publish(let subject, let replyTo, let headers, let payload):
            if let headers {
                let headerBytes = Self.headerBlock(headers)
                buffer.writeString("HPUB ")
                buffer.writeString(subject)
                if let replyTo {
                    buffer.writeString(" ")
                    buffer.writeString(replyTo)
                }
                buffer.writeString(" \(headerBytes.count) \(headerBytes.count + payload.readableBytes)\r\n")
                buffer.writeBytes(headerBytes)
            } else {
                buffer.writeString("PUB ")
                buffer.writeString(subject)
                if let replyTo {
                    buffer.writeString(" ")
                    buffer.writeString(replyTo)
                }
                buffer.writeString(" \(payload.readableBytes)\r\n")
            }
            buffer.writeImmutableBuffer(payload)
            buffer.writeString("\r\n")
        case .subscribe(let subject, let queue, let sid):
            buffer.writeString("SUB ")
            buffer.writeString(subject)
            if let queue {
                buffer.writeString(" ")
                buffer.writeString(queue)
            }
            buffer.writeString(" \(sid)\r\n")
        case .unsubscribe(let sid, let max):
            if let max {
                buffer.writeString("UNSUB \(sid) \(max)\r\n")
            } else {
                buffer.writeString("UNSUB \(sid)\r\n")
            }
        }
    }

    /// The `NATS/1.0` header block for `headers`, ending with the empty line.
    static func headerBlock(_ headers: NATSHeaders) -> [UInt8] {
        var text = "NATS/1.0\r\n"
        for field in headers {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The number of bytes the server counts against `max_payload` for a publish (headers + payload).
    static func payloadSize(headers: NATSHeaders?, payload: ByteBuffer) -> Int {
        guard let headers else { return payload.readableBytes }
        var size = "NATS/1.0\r\n".utf8.count + 2
        for field in headers {
            size += field.name.utf8.count + 2 + field.value.utf8.count + 2
        }
        return size + payload.readableBytes
    }
}
