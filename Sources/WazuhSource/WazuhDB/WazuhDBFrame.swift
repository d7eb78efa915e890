/// wazuh-db's socket framing: a 4-byte little-endian payload length, then the payload.
///
/// Requests and replies are at most ``maximumPayload`` (65536) bytes; a longer length is a
/// protocol error, never an allocation. Pure: no socket, testable byte by byte and fuzzed.
public enum WazuhDBFrame {
    /// The largest payload wazuh-db sends or accepts.
    public static let maximumPayload = 65536

    /// The frame for `payload`.
    /// - Throws: ``WazuhSourceError`` `.malformedReply` when the payload is over the limit.
    public static func encode(_ payload: some Collection<UInt8>) throws(WazuhSourceError) -> [UInt8] {
        guard payload.count <= maximumPayload else {
            throw WazuhSourceError(
                code: .malformedReply, path: nil,
                message: "a wazuh-db request of \(payload.count) bytes is over the \(maximumPayload)-byte limit")
        }
        let length = UInt32(payload.count)
        var frame: [UInt8] = []
        frame.reserveCapacity(4 + payload.count)
        frame.append(UInt8(truncatingIfNeeded: length))
        frame.append(UInt8(truncatingIfNeeded: length >> 8))
        frame.append(UInt8(truncatingIfNeeded: length >> 16))
        frame.append(UInt8(truncatingIfNeeded: length >> 24))
        frame.append(contentsOf: payload)
        return frame
    }

    /// Accumulates bytes as they arrive and hands out whole payloads.
    ///
    /// After it threw once the decoder stays failed (the stream is out of step): drop the connection.
    public struct Decoder: Sendable {
        private var buffer: [UInt8] = []
        private var start = 0
        private var failure: WazuhSourceError?
        /// Largest accepted payload (``WazuhDBFrame/maximumPayload`` unless a test lowers it).
        public let maximumPayload: Int

        public init(maximumPayload: Int = WazuhDBFrame.maximumPayload) {
            self.maximumPayload = maximumPayload
        }

        /// Bytes received but not yet handed out.
        public var bufferedBytes: Int { buffer.count - start }

        /// Appends received bytes.
        public mutating func feed(_ bytes: some Sequence<UInt8>) {
            if start > 0, start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            buffer.append(contentsOf: bytes)
        }

        /// The next whole payload, or `nil` until more bytes arrive.
        /// - Throws: `.malformedReply` when a length is over the limit (and on every later call).
        public mutating func next() throws(WazuhSourceError) -> [UInt8]? {
            if let failure { throw failure }
            guard buffer.count - start >= 4 else { return nil }
            let length =
                Int(buffer[start]) | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2]) << 16
                | Int(buffer[start + 3]) << 24
            guard length <= maximumPayload else {
                let error = WazuhSourceError(
                    code: .malformedReply, path: nil,
                    message: "wazuh-db announced a reply of \(length) bytes, over the \(maximumPayload)-byte limit")
                failure = error
                throw error
            }
            guard buffer.count - start - 4 >= length else { return nil }
            let payload = Array(buffer[(start + 4)..<(start + 4 + length)])
            start += 4 + length
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            } else if start > 65536 {
                buffer.removeFirst(start)
                start = 0
            }
            return payload
        }
    }
}
