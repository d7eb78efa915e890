import NIOCore

/// One operation sent by the server.
public enum NATSServerOp: Sendable, Equatable {
    /// `INFO {json}`; the JSON text is decoded by the connection, not the parser.
    case info(String)
    /// `MSG` or `HMSG`, for subscription `sid`.
    case message(sid: UInt64, NATSMessage)
    case ping
    case pong
    case ok
    /// `-ERR 'text'`, with the quotes removed.
    case err(String)
}

/// A pure, bounded parser for the server side of the NATS protocol: feed bytes, take operations.
///
/// Bounds: a control line longer than ``maxControlLineLength`` and a message whose announced size exceeds
/// ``maxPayloadSize`` are rejected with a typed ``NATSError`` as soon as the control line is seen. The parser
/// never reserves memory from an announced size: a message is only sliced out once all of its bytes arrived.
public struct NATSProtocolParser: Sendable {
    /// The longest control line accepted (without its CRLF).
    public static let maxControlLineLength = 4096

    /// The largest header + payload size accepted from the server.
    public var maxPayloadSize: Int
    private var buffer: ByteBuffer

    public init(maxPayloadSize: Int = 64 * 1024 * 1024) {
        self.maxPayloadSize = maxPayloadSize
        self.buffer = ByteBuffer()
    }

    /// Appends bytes received from the server.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        self.buffer.writeBytes(bytes)
    }

    /// Appends bytes received from the server.
    public mutating func feed(_ bytes: ByteBuffer) {
        var bytes = bytes
        self.buffer.writeBuffer(&bytes)
    }

    /// The next complete operation, or `nil` when more bytes are needed.
    public mutating func next() throws -> NATSServerOp? {
        let op = try Self.parse(from: &self.buffer, maxPayloadSize: self.maxPayloadSize)
        if op != nil, self.buffer.readableBytes == 0 {
            self.buffer.clear()
        }
        return op
    }

    /// Parses one operation from the front of `buffer`, consuming its bytes only when it is complete.
    public static func parse(from buffer: inout ByteBuffer, maxPayloadSize: Int) throws -> NATSServerOp? {
        let view = buffer.readableBytesView
        let searchLength = min(view.count, Self.maxControlLineLength + 2)
        guard let newline = view.prefix(searchLength).firstIndex(of: UInt8(ascii: "\n")) else {
            if view.count > Self.maxControlLineLength + 1 {
                throw NATSError(.controlLineTooLong, "control line longer than \(Self.maxControlLineLength) bytes")
            }
            return nil
        }
        let lineEnd = newline - view.startIndex
        guard lineEnd > 0, view[newline - 1] == UInt8(ascii: "\r") else {
            throw NATSError(.protocolViolation, "control line not terminated by CRLF")
        }
        if let arguments = Self.fastMessageArguments(buffer, lineLength: lineEnd - 1) {
            return try Self.finishMessage(
                arguments, controlLength: lineEnd + 1, buffer: &buffer, maxPayloadSize: maxPayloadSize)
        }
        let line = Array(view[view.startIndex..<(newline - 1)])
        let controlLength = lineEnd + 1
        if line.count > Self.maxControlLineLength {
            throw NATSError(.controlLineTooLong, "control line longer than \(Self.maxControlLineLength) bytes")
        }

        let opEnd = line.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } ?? line.count
        let opName = String(decoding: line[0..<opEnd], as: UTF8.self).uppercased()
        let rest = Array(line[opEnd...])

        switch opName {
        case "PING":
            buffer.moveReaderIndex(forwardBy: controlLength)
            return .ping
        case "PONG":
            buffer.moveReaderIndex(forwardBy: controlLength)
            return .pong
        case "+OK":
            buffer.moveReaderIndex(forwardBy: controlLength)
            return .ok
        case "-ERR":
            buffer.moveReaderIndex(forwardBy: controlLength)
            var text = String(decoding: rest, as: UTF8.self).trimmingSpaces()
            if text.count >= 2, text.hasPrefix("'"), text.hasSuffix("'") {
                text = String(text.dropFirst().dropLast())
            }
            return .err(text)
        case "INFO":
            buffer.moveReaderIndex(forwardBy: controlLength)
            return .info(String(decoding: rest, as: UTF8.self).trimmingSpaces())
        case "MSG":
            return try Self.parseMessage(
                arguments: Self.split(rest), hasHeaders: false, controlLength: controlLength,
                buffer: &buffer, maxPayloadSize: maxPayloadSize)
        case "HMSG":
            return try Self.parseMessage(
                arguments: Self.split(rest), hasHeaders: true, controlLength: controlLength,
                buffer: &buffer, maxPayloadSize: maxPayloadSize)
        default:
            throw NATSError(.protocolViolation, "unknown operation '\(opName.prefix(16))'")
        }
    }

    private static func parseMessage(
        arguments: [[UInt8]],
        hasHeaders: Bool,
        controlLength: Int,
        buffer: inout ByteBuffer,
        maxPayloadSize: Int
    ) throws -> NATSServerOp? {
        let sizeCount = hasHeaders ? 2 : 1
        guard arguments.count == 2 + sizeCount || arguments.count == 3 + sizeCount else {
            throw NATSError(.protocolViolation, "\(hasHeaders ? "HMSG" : "MSG") has \(arguments.count) arguments")
        }
        let subject = String(decoding: arguments[0], as: UTF8.self)
        guard let sid = Self.parseNumber(arguments[1]) else {
            throw NATSError(.protocolViolation, "invalid subscription id")
        }
        let replyTo = arguments.count == 3 + sizeCount ? String(decoding: arguments[2], as: UTF8.self) : nil
        guard let totalSize = Self.parseNumber(arguments[arguments.count - 1]) else {
            throw NATSError(.protocolViolation, "invalid message size")
        }
        var headerSize: UInt64 = 0
        if hasHeaders {
            guard let size = Self.parseNumber(arguments[arguments.count - 2]), size <= totalSize else {
                throw NATSError(.protocolViolation, "invalid header size")
            }
            headerSize = size
        }
        return try Self.finishMessage(
            MessageArguments(
                hasHeaders: hasHeaders, subject: subject, sid: sid, replyTo: replyTo, headerSize: headerSize,
                totalSize: totalSize),
            controlLength: controlLength, buffer: &buffer, maxPayloadSize: maxPayloadSize)
    }

    /// The parsed arguments of a `MSG`/`HMSG` control line.
    private struct MessageArguments {
        var hasHeaders: Bool
        var subject: String
        var sid: UInt64
        var replyTo: String?
        var headerSize: UInt64
        var totalSize: UInt64
    }

    /// The arguments of a well-formed upper-case `MSG`/`HMSG` line of `lineLength` bytes at the front of
    /// `buffer`, read in place without allocating; `nil` for anything else, which the general path then parses
    /// (and reports errors for) exactly as before.
    private static func fastMessageArguments(_ buffer: ByteBuffer, lineLength: Int) -> MessageArguments? {
        buffer.withUnsafeReadableBytes { raw -> MessageArguments? in
            let line = UnsafeRawBufferPointer(rebasing: raw[0..<lineLength])
            let hasHeaders: Bool
            var index: Int
            if line.starts(with: "MSG".utf8), line.count > 3, line[3] == UInt8(ascii: " ") || line[3] == 9 {
                hasHeaders = false
                index = 3
            } else if line.starts(with: "HMSG".utf8), line.count > 4, line[4] == UInt8(ascii: " ") || line[4] == 9 {
                hasHeaders = true
                index = 4
            } else {
                return nil
            }
            var tokens: [Range<Int>] = []
            tokens.reserveCapacity(5)
            while index < line.count {
                while index < line.count, line[index] == UInt8(ascii: " ") || line[index] == 9 { index += 1 }
                guard index < line.count else { break }
                let start = index
                while index < line.count, line[index] != UInt8(ascii: " "), line[index] != 9 { index += 1 }
                guard tokens.count < 5 else { return nil }
                tokens.append(start..<index)
            }
            let sizeCount = hasHeaders ? 2 : 1
            guard tokens.count == 2 + sizeCount || tokens.count == 3 + sizeCount else { return nil }
            func number(_ range: Range<Int>) -> UInt64? {
                guard !range.isEmpty, range.count <= 18 else { return nil }
                var value: UInt64 = 0
                for byte in line[range] {
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                    value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
                }
                return value
            }
            guard let sid = number(tokens[1]), let totalSize = number(tokens[tokens.count - 1]) else { return nil }
            var headerSize: UInt64 = 0
            if hasHeaders {
                guard let size = number(tokens[tokens.count - 2]), size <= totalSize else { return nil }
                headerSize = size
            }
            let subject = String(decoding: UnsafeRawBufferPointer(rebasing: line[tokens[0]]), as: UTF8.self)
            let replyTo =
                tokens.count == 3 + sizeCount
                ? String(decoding: UnsafeRawBufferPointer(rebasing: line[tokens[2]]), as: UTF8.self) : nil
            return MessageArguments(
                hasHeaders: hasHeaders, subject: subject, sid: sid, replyTo: replyTo, headerSize: headerSize,
                totalSize: totalSize)
        }
    }

    /// Slices out the message announced by `arguments` once all of its bytes arrived.
    private static func finishMessage(
        _ arguments: MessageArguments,
        controlLength: Int,
        buffer: inout ByteBuffer,
        maxPayloadSize: Int
    ) throws -> NATSServerOp? {
        let (hasHeaders, subject, sid, replyTo, headerSize, totalSize) = (
            arguments.hasHeaders, arguments.subject, arguments.sid, arguments.replyTo, arguments.headerSize,
            arguments.totalSize
        )
        guard totalSize <= UInt64(maxPayloadSize) else {
            throw NATSError(.payloadTooLarge, "server announced \(totalSize) bytes, limit is \(maxPayloadSize)")
        }
        let total = Int(totalSize)
        guard buffer.readableBytes >= controlLength + total + 2 else {
            return nil
        }
        let start = buffer.readerIndex + controlLength
        guard buffer.getInteger(at: start + total, as: UInt16.self) == 0x0D0A else {
            throw NATSError(.protocolViolation, "message payload not terminated by CRLF")
        }
        var status: NATSStatus?
        var headers: NATSHeaders?
        if hasHeaders {
            let headerBytes = buffer.getBytes(at: start, length: Int(headerSize)) ?? []
            (status, headers) = try Self.parseHeaders(headerBytes)
        }
        let payload = buffer.getSlice(at: start + Int(headerSize), length: total - Int(headerSize)) ?? ByteBuffer()
        buffer.moveReaderIndex(forwardBy: controlLength + total + 2)
        let message = NATSMessage(
            subject: subject, replyTo: replyTo, headers: headers, payload: payload, status: status)
        return .message(sid: sid, message)
    }

    /// Parses a `NATS/1.0 [code [description]]\r\n(Name: value\r\n)*\r\n` block.
    static func parseHeaders(_ bytes: [UInt8]) throws -> (NATSStatus?, NATSHeaders) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let first = lines.popFirst(), first.hasPrefix("NATS/1.0") else {
            throw NATSError(.protocolViolation, "header block does not start with NATS/1.0")
        }
        var status: NATSStatus?
        let statusText = first.dropFirst("NATS/1.0".count).trimmingSpaces()
        if !statusText.isEmpty {
            let codeText = statusText.prefix { $0 != " " }
            guard codeText.count == 3, let code = Int(codeText) else {
                throw NATSError(.protocolViolation, "invalid status line")
            }
            status = NATSStatus(code: code, description: statusText.dropFirst(3).trimmingSpaces())
        }
        var headers = NATSHeaders()
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw NATSError(.protocolViolation, "header line without a colon")
            }
            let name = String(line[line.startIndex..<colon]).trimmingSpaces()
            guard !name.isEmpty else {
                throw NATSError(.protocolViolation, "header line with an empty name")
            }
            headers.append(name: name, value: String(line[line.index(after: colon)...]).trimmingSpaces())
        }
        return (status, headers)
    }

    private static func split(_ bytes: [UInt8]) -> [[UInt8]] {
        bytes.split { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }.map(Array.init)
    }

    /// Parses decimal digits only (no sign, at most 18 digits so it cannot overflow).
    private static func parseNumber(_ bytes: [UInt8]) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 18 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + UInt64(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = self.firstIndex(where: { !isSpace($0) }) else { return "" }
        let end = self.lastIndex(where: { !isSpace($0) }) ?? start
        return String(self[start...end])
    }
}
