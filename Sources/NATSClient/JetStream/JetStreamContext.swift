import Foundation
import NIOCore

/// One message of ``JetStreamContext/publishBatch(_:)``.
public struct JetStreamOutgoingMessage: Sendable {
    public var subject: String
    public var payload: ByteBuffer
    public var headers: NATSHeaders?
    /// Sent as `Nats-Msg-Id`: the stream drops a resent message with the same id within its duplicate window.
    public var messageID: String?
    public var expectations: JetStreamPublishExpectations

    public init(
        subject: String,
        payload: ByteBuffer,
        headers: NATSHeaders? = nil,
        messageID: String? = nil,
        expectations: JetStreamPublishExpectations = JetStreamPublishExpectations()
    ) {
        self.subject = subject
        self.payload = payload
        self.headers = headers
        self.messageID = messageID
        self.expectations = expectations
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
        let message = JetStreamOutgoingMessage(
            subject: subject, payload: payload, headers: headers, messageID: messageID, expectations: expectations)
        let slot = AckSlot(window: nil)
        let request = try self.prepare(message, slot: slot, limit: self.connection.maxPayload)
        self.connection.startAckRequests(CollectionOfOne(request), timeout: self.timeout)
        return try await slot.value()
    }

    /// Sends a publish without waiting for its acknowledgement; suspends while `maxPending` are outstanding.
    ///
    /// Messages go out in call order. Await each ``PendingAck/result()`` in the same order to read acks in
    /// publish order; a failure is reported on the message it concerns, so the caller can go back to the first
    /// unacknowledged message and resend from there (the stream drops resent duplicates by `Nats-Msg-Id`).
    /// Throws at once when the message is invalid or cannot be sent (connection closed, reconnect buffer full).
    public func publishPipelined(
        subject: String,
        payload: ByteBuffer,
        headers: NATSHeaders? = nil,
        messageID: String? = nil,
        expectations: JetStreamPublishExpectations = JetStreamPublishExpectations()
    ) async throws -> PendingAck {
        let message = JetStreamOutgoingMessage(
            subject: subject, payload: payload, headers: headers, messageID: messageID, expectations: expectations)
        try await self.window.acquire()
        let slot = AckSlot(window: self.window)
        let request: AckRequest
        do {
            request = try self.prepare(message, slot: slot, limit: self.connection.maxPayload)
        } catch {
            self.window.release()
            throw error
        }
        self.connection.startAckRequests(CollectionOfOne(request), timeout: self.timeout)
        if case .failure(let error) = slot.outcome, let error = error as? NATSError,
            error.code == .connectionClosed || error.code == .reconnectBufferFull
        {
            throw error
        }
        return PendingAck(messageID: messageID, subject: subject, slot: slot)
    }

    /// Sends `messages` in order without waiting for their acknowledgements and returns one ``PendingAck`` per
    /// message, in the same order.
    ///
    /// Messages are registered and encoded under one lock per group and written with one system call per group;
    /// a group is as large as the free permits of the window (`maxPending`), so a batch larger than the window
    /// suspends until earlier acks free permits. Throws before sending anything when a message is invalid
    /// (subject, headers, larger than `max_payload`), and `CancellationError` when cancelled while waiting for
    /// permits before the first message went out. Every other failure belongs to its message: a message that
    /// could not be sent (connection closed, reconnect buffer full, cancelled mid-batch) gets an ack already
    /// failed with that error. Await the acks with ``PendingAck/results(_:)``.
    public func publishBatch(_ messages: [JetStreamOutgoingMessage]) async throws -> [PendingAck] {
        var requests: [AckRequest] = []
        requests.reserveCapacity(messages.count)
        let limit = self.connection.maxPayload
        for message in messages {
            let request = try self.prepare(message, slot: AckSlot(window: self.window), limit: limit)
            requests.append(request)
        }
        var acks: [PendingAck] = []
        acks.reserveCapacity(messages.count)
        var next = 0
        while next < requests.count {
            let granted: Int
            do {
                granted = try await self.window.acquire(upTo: requests.count - next)
            } catch {
                if next == 0 { throw error }
                for index in next..<requests.count {
                    acks.append(
                        PendingAck(
                            messageID: messages[index].messageID, subject: messages[index].subject,
                            slot: AckSlot(failed: error)))
                }
                return acks
            }
            let group = requests[next..<(next + granted)]
            self.connection.startAckRequests(group, timeout: self.timeout)
            for index in next..<(next + granted) {
                acks.append(
                    PendingAck(
                        messageID: messages[index].messageID, subject: messages[index].subject,
                        slot: requests[index].slot))
            }
            next += granted
        }
        return acks
    }

    /// Permits of the pipelining window currently free.
    public var availablePermits: Int {
        self.window.available
    }

    /// Validates `message` and builds its headers (`Nats-Msg-Id`, expectations).
    private func prepare(_ message: JetStreamOutgoingMessage, slot: AckSlot, limit: Int) throws -> AckRequest {
        try NATSConnection.validateSubject(message.subject)
        var headers = message.headers
        if let messageID = message.messageID {
            if headers == nil {
                headers = NATSHeaders([NATSHeaders.Field(name: "Nats-Msg-Id", value: messageID)])
            } else {
                headers?.set(name: "Nats-Msg-Id", value: messageID)
            }
        }
        if message.expectations != JetStreamPublishExpectations() {
            var all = headers ?? NATSHeaders()
            message.expectations.apply(to: &all)
            headers = all
        }
        if headers?.isEmpty == true {
            headers = nil
        }
        try NATSConnection.validateHeaders(headers)
        let size = NATSCommandEncoder.payloadSize(headers: headers, payload: message.payload)
        try NATSConnection.checkSize(size, limit: limit)
        return AckRequest(subject: message.subject, headers: headers, payload: message.payload, size: size, slot: slot)
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

    func apiRequest<Reply: Decodable>(_ api: String, body: Data?, as type: Reply.Type) async throws -> Reply {
        let payload = body.map { ByteBuffer(bytes: $0) } ?? ByteBuffer()
        let message = try await self.connection.request(
            subject: self.apiPrefix + "." + api, payload: payload, timeout: self.timeout)
        return try Self.decodeReply(Reply.self, from: message)
    }

    /// Decodes a publish reply: either a ``PubAck`` or a ``JetStreamAPIError``; the one PubAck parser, also for
    /// publishers that collect replies on their own inbox.
    ///
    /// The server's usual compact reply (`{"stream":"S","seq":N}`, optionally with `"duplicate":true` and/or
    /// `"domain":"D"`) is read by a small scanner; anything else goes through the full JSON decoder.
    /// - Throws: ``JetStreamAPIError`` for an `error` reply, ``NATSError`` (`invalidResponse`) for anything else
    ///   that is not a PubAck.
    public static func decodePubAck(from message: NATSMessage) throws -> PubAck {
        if let ack = message.payload.readableBytesView.withContiguousStorageIfAvailable({ PubAckScanner.scan($0) })
            ?? nil
        {
            return ack
        }
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
