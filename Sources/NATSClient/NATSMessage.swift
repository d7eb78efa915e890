import NIOCore

/// A message delivered to a subscription or returned by a request.
public struct NATSMessage: Sendable, Equatable {
    public var subject: String
    public var replyTo: String?
    /// The headers, or `nil` for a message sent without headers (`MSG` rather than `HMSG`).
    public var headers: NATSHeaders?
    public var payload: ByteBuffer
    /// The status from the header block's first line (`NATS/1.0 503`), if it carried one.
    public var status: NATSStatus?

    public init(
        subject: String,
        replyTo: String? = nil,
        headers: NATSHeaders? = nil,
        payload: ByteBuffer,
        status: NATSStatus? = nil
    ) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
        self.status = status
    }

    /// The payload bytes as an array.
    public var payloadBytes: [UInt8] {
        Array(self.payload.readableBytesView)
    }
}
