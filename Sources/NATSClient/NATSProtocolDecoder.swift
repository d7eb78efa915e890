import NIOCore

/// Frames the server's byte stream into ``NATSServerOp`` values with ``NATSProtocolParser``.
public struct NATSProtocolDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = NATSServerOp

    /// The largest header + payload size accepted from the server.
    public var maxPayloadSize: Int

    public init(maxPayloadSize: Int = 64 * 1024 * 1024) {
        self.maxPayloadSize = maxPayloadSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let op = try NATSProtocolParser.parse(from: &buffer, maxPayloadSize: self.maxPayloadSize) else {
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(op))
        return .continue
    }

    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
