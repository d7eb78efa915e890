import Foundation
import NIOCore

/// The outcome of one pipelined publish; await ``result()`` in publish order to get acks in publish order.
public struct PendingAck: Sendable {
    /// The `Nats-Msg-Id` sent with the message, if any.
    public let messageID: String?
    /// The subject published to.
    public let subject: String
    let future: EventLoopFuture<PubAck>

    /// The server's acknowledgement, or the error for exactly this message: ``JetStreamAPIError``,
    /// ``NATSError`` with code `timeout`, `connectionLost`, `noResponders` or `connectionClosed`.
    public func result() async throws -> PubAck {
        try await self.future.get()
    }
}

/// JetStream on top of a ``NATSConnection``: publishing with acknowledgements and stream management.
public struct JetStreamContext: Sendable {
    public let connection: NATSConnection
    /// Per-request deadline for API calls and publish acks.
    public var timeout: Duration
    /// The API subject prefix (`$JS.API`).
    public var apiPrefix: String
    private let window: PublishWindow

    /// - Parameter maxPending: the most pipelined publishes outstanding at once (see ``publishPipelined``).
    public init(
        connection: NATSConnection,
        timeout: Duration = .seconds(5),
        maxPending: Int = 256,
        apiPrefix: String = "$JS.API"
    ) {
        self.connection = connection
        self.timeout = timeout
        self.apiPrefix = apiPrefix
        self.window = PublishWindow(size: maxPending)
    }

    // MARK: Publishing

    /// Publishes one message and waits for its acknowledgement.
    public func publish(
        subject: String,
        payload: ByteBuffer,
        headers: NATSHeaders? = nil,
        messageID: String? = nil,
        expectations: JetStreamPublishExpectations = JetStreamPublishExpectations()
    ) async throws -> PubAck {
        let future = try self.startPublish(
            subject: subject, payload: payload, headers: headers, messageID: messageID, expectations: expectations)
        return try await future.get()
    }

    /// Sends a publish without waiting for its acknowledgement; suspends while `maxPending` are outstanding.
    ///
    /// Messages go out in call order. Await each ``PendingAck/result()`` in the same order to read acks in
    /// publish order; a failure is reported on the message it concerns, so the caller can go back to the first
    /// unacknowledged message and resend from there (the stream drops resent duplicates by `Nats-Msg-Id`).
    public func publishPipelined(
        subject: String,
        payload: ByteBuffer,
        headers: NATSHeaders? = nil,
        messageID: String? = nil,
        expectations: JetStreamPublishExpectations = JetStreamPublishExpectations()
    ) async throws -> PendingAck {
        try await self.window.acquire()
        let future: EventLoopFuture<PubAck>
        do {
            future = try self.startPublish(
                subject: subject, payload: payload, headers: headers, messageID: messageID, expectations: expectations)
        } catch {
            self.window.release()
            throw error
        }
        let window = self.window
        future.whenComplete { _ in window.release() }
        return PendingAck(messageID: messageID, subject: subject, future: future)
    }

    /// Permits of the pipelining window currently free.
    public var availablePermits: Int {
        self.window.available
    }

    private func startPublish(
        subject: String,
        payload: ByteBuffer,
        headers: NATSHeaders?,
        messageID: String?,
        expectations: JetStreamPublishExpectations
    ) throws -> EventLoopFuture<PubAck> {
        var allHeaders = headers ?? NATSHeaders()
        if let messageID {
            allHeaders.set(name: "Nats-Msg-Id", value: messageID)
        }
        expectations.apply(to: &allHeaders)
        let reply = try self.connection.startRequest(
            subject: subject, headers: allHeaders.isEmpty ? nil : allHeaders, payload: payload, timeout: self.timeout
        ).future
        return reply.flatMapThrowing { message in
            try Self.decodePubAck(from: message)
        }
    }

    // MARK: Streams

    /// The stream's configuration and state; throws ``JetStreamAPIError`` (err_code 10059) when it does not exist.
    public func streamInfo(name: String) async throws -> StreamInfo {
        try await self.apiRequest("STREAM.INFO." + name, body: nil, as: StreamInfo.self)
    }

    /// Creates a stream.
    public func createStream(_ config: StreamConfig) async throws -> StreamInfo {
        try await self.apiRequest(
            "STREAM.CREATE." + config.name, body: try JSONEncoder().encode(config), as: StreamInfo.self)
    }

    /// Replaces a stream's configuration.
    public func updateStream(_ config: StreamConfig) async throws -> StreamInfo {
        try await self.apiRequest(
            "STREAM.UPDATE." + config.name, body: try JSONEncoder().encode(config), as: StreamInfo.self)
    }

    /// Creates the stream, or updates it when its subjects or duplicate window differ from `config`.
    public func ensureStream(_ config: StreamConfig) async throws -> StreamInfo {
        let existing: StreamInfo
        do {
            existing = try await self.streamInfo(name: config.name)
        } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
            return try await self.createStream(config)
        }
        if Set(existing.config.subjects) != Set(config.subjects)
            || existing.config.duplicateWindow != config.duplicateWindow
        {
            return try await self.updateStream(config)
        }
        return existing
    }

    /// Deletes a stream and its messages.
    public func deleteStream(name: String) async throws {
        struct Deleted: Decodable { var success: Bool }
        _ = try await self.apiRequest("STREAM.DELETE." + name, body: nil, as: Deleted.self)
    }

    /// Reads the message stored at `sequence`.
    public func getMessage(stream: String, sequence: UInt64) async throws -> StoredMessage {
        struct Request: Encodable { var seq: UInt64 }
        struct Reply: Decodable {
            struct Message: Decodable {
                var subject: String
                var seq: UInt64
                var hdrs: String?
                var data: String?
            }
            var message: Message
        }
        let reply = try await self.apiRequest(
            "STREAM.MSG.GET." + stream, body: try JSONEncoder().encode(Request(seq: sequence)), as: Reply.self)
        var headers: NATSHeaders?
        if let encoded = reply.message.hdrs, let bytes = Data(base64Encoded: encoded) {
            headers = try NATSProtocolParser.parseHeaders(Array(bytes)).1
        }
        let payload = reply.message.data.flatMap { Data(base64Encoded: $0) }.map(Array.init) ?? []
        return StoredMessage(
            subject: reply.message.subject, sequence: reply.message.seq, headers: headers, payload: payload)
    }

    private func apiRequest<Reply: Decodable>(_ api: String, body: Data?, as type: Reply.Type) async throws -> Reply {
        let payload = body.map { ByteBuffer(bytes: $0) } ?? ByteBuffer()
        let message = try await self.connection.request(
            subject: self.apiPrefix + "." + api, payload: payload, timeout: self.timeout)
        return try Self.decodeReply(Reply.self, from: message)
    }

    /// Decodes a publish reply in one pass: either a ``PubAck`` or a ``JetStreamAPIError``.
    static func decodePubAck(from message: NATSMessage) throws -> PubAck {
        struct Reply: Decodable {
            var stream: String?
            var seq: UInt64?
            var duplicate: Bool?
            var domain: String?
            var error: JetStreamAPIError?
        }
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: Data(message.payload.readableBytesView))
        } catch {
            throw NATSError(.invalidResponse, "JetStream publish reply is not JSON", underlying: error)
        }
        if let error = reply.error {
            throw error
        }
        guard let stream = reply.stream, let seq = reply.seq else {
            throw NATSError(.invalidResponse, "JetStream publish reply lacks stream or seq")
        }
        return PubAck(stream: stream, seq: seq, duplicate: reply.duplicate ?? false, domain: reply.domain)
    }

    /// Decodes a JetStream reply, turning an `error` member into ``JetStreamAPIError``.
    static func decodeReply<Reply: Decodable>(_ type: Reply.Type, from message: NATSMessage) throws -> Reply {
        let data = Data(message.payload.readableBytesView)
        let decoder = JSONDecoder()
        if let envelope = try? decoder.decode(JetStreamErrorEnvelope.self, from: data), let error = envelope.error {
            throw error
        }
        do {
            return try decoder.decode(Reply.self, from: data)
        } catch {
            throw NATSError(
                .invalidResponse, "JetStream reply on '\(message.subject)' is not a valid \(Reply.self)",
                underlying: error)
        }
    }
}

extension NATSConnection {
    /// A JetStream context over this connection.
    public func jetStream(timeout: Duration = .seconds(5), maxPending: Int = 256) -> JetStreamContext {
        JetStreamContext(connection: self, timeout: timeout, maxPending: maxPending)
    }
}
