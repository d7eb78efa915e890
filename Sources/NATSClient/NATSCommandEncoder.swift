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
            Self.writePublish(subject: subject, replyTo: replyTo, headers: headers, payload: payload, into: &buffer)
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

    /// Appends a `PUB`/`HPUB` command; the reply subject is `replyTo`, or `replyTo.J<replyAckToken>` when an
    /// ack token is given (so the acknowledged-publish path builds no string for it).
    static func writePublish(
        subject: String,
        replyTo: String?,
        replyAckToken: UInt64? = nil,
        headers: NATSHeaders?,
        payload: ByteBuffer,
        into buffer: inout ByteBuffer
    ) {
        let headerSize = headers.map(Self.headerBlockSize) ?? 0
        buffer.reserveCapacity(
            minimumWritableBytes: subject.utf8.count + (replyTo?.utf8.count ?? 0) + (replyAckToken == nil ? 0 : 22)
                + headerSize + payload.readableBytes + 40)
        buffer.writeStaticString(headers == nil ? "PUB " : "HPUB ")
        buffer.writeString(subject)
        if let replyTo {
            buffer.writeInteger(UInt8(ascii: " "))
            buffer.writeString(replyTo)
            if let replyAckToken {
                buffer.writeStaticString(".J")
                Self.writeDecimal(replyAckToken, into: &buffer)
            }
        }
        buffer.writeInteger(UInt8(ascii: " "))
        if let headers {
            Self.writeDecimal(UInt64(headerSize), into: &buffer)
            buffer.writeInteger(UInt8(ascii: " "))
            Self.writeDecimal(UInt64(headerSize + payload.readableBytes), into: &buffer)
            buffer.writeStaticString("\r\nNATS/1.0\r\n")
            for field in headers {
                buffer.writeString(field.name)
                buffer.writeStaticString(": ")
                buffer.writeString(field.value)
                buffer.writeStaticString("\r\n")
            }
            buffer.writeStaticString("\r\n")
        } else {
            Self.writeDecimal(UInt64(payload.readableBytes), into: &buffer)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeImmutableBuffer(payload)
        buffer.writeStaticString("\r\n")
    }

    /// Appends the decimal digits of `value` without building a string.
    static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        var divisor: UInt64 = 1
        while value / divisor >= 10 {
            divisor *= 10
        }
        var remaining = value
        while divisor > 0 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(remaining / divisor))
            remaining %= divisor
            divisor /= 10
        }
    }

    /// The size of the `NATS/1.0` header block for `headers`, ending with the empty line.
    static func headerBlockSize(_ headers: NATSHeaders) -> Int {
        var size = "NATS/1.0\r\n".utf8.count + 2
        for field in headers {
            size += field.name.utf8.count + 2 + field.value.utf8.count + 2
        }
        return size
    }

    /// The number of bytes the server counts against `max_payload` for a publish (headers + payload).
    static func payloadSize(headers: NATSHeaders?, payload: ByteBuffer) -> Int {
        guard let headers else { return payload.readableBytes }
        return Self.headerBlockSize(headers) + payload.readableBytes
    }
}
