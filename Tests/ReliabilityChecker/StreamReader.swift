import NATSClient
import WireContract

/// One message of the JetStream stream as the reliability checker read it back.
public struct StreamRecord: Sendable, Hashable {
    /// What the message turned out to be once opened and verified.
    public enum Content: Sendable, Hashable {
        case event(AgentStatusEvent, channel: String)
        case batch
        case heartbeat
        /// An anomaly finding or a flapping summary (wire contract 1.1): verified, not a transition.
        case securitySignal
        /// Could not be opened or failed verification (the reason, from WireContract).
        case unreadable(String)
    }

    public var sequence: UInt64
    public var subject: String
    public var messageID: String?
    public var content: Content

    public init(sequence: UInt64, subject: String, messageID: String?, content: Content) {
        self.sequence = sequence
        self.subject = subject
        self.messageID = messageID
        self.content = content
    }
}

/// Reads a whole JetStream stream with its own code path: `$JS.API.STREAM.INFO` for the last
/// sequence, then `$JS.API.STREAM.MSG.GET` for every sequence, each message opened and its
/// signature verified with WireContract's ``MessageOpener``. Independent of the gateway's
/// `subscribe` command, so a defect there cannot hide one in delivery.
///
/// Incremental: ``readNew()`` returns the messages stored since the previous call. A failed call
/// (server down, leader election) throws and drops the connection; the next call reconnects and
/// goes on from the same sequence.
public actor StreamReader {
    public let urls: String
    public let stream: String
    private let opener: MessageOpener
    private var connection: NATSConnection?
    /// The next stream sequence to read.
    public private(set) var nextSequence: UInt64 = 1

    /// `urls`: comma-separated NATS URLs (any node of a cluster will do).
    public init(urls: String, stream: String, opener: MessageOpener) {
        self.urls = urls
        self.stream = stream
        self.opener = opener
    }

    /// Every message stored after the last one read, in stream order.
    public func readNew() async throws -> [StreamRecord] {
        do {
            return try await self.readNewOnce()
        } catch {
            await self.close()
            throw error
        }
    }

    /// Closes the connection (the next ``readNew()`` opens another).
    public func close() async {
        if let connection { await connection.close() }
        connection = nil
    }

    private func readNewOnce() async throws -> [StreamRecord] {
        let connection = try await self.connected()
        let jetStream = connection.jetStream(timeout: .seconds(5))
        let info: StreamInfo
        do {
            info = try await jetStream.streamInfo(name: stream)
        } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.streamNotFound {
            return []  // the gateway creates the stream at its first delivery
        }
        guard info.state.messages > 0, info.state.lastSeq >= nextSequence else { return [] }
        var records: [StreamRecord] = []
        for sequence in max(nextSequence, info.state.firstSeq)...info.state.lastSeq {
            let message = try await jetStream.getMessage(stream: stream, sequence: sequence)
            records.append(self.record(message, sequence: sequence))
        }
        // Only once every message arrived: a read failing half-way is repeated whole by the next call.
        nextSequence = info.state.lastSeq + 1
        return records
    }

    private func connected() async throws -> NATSConnection {
        if let connection { return connection }
        var options = try NATSConnectionOptions(url: urls)
        options.reconnect = .disabled
        options.connectTimeout = .seconds(2)
        let connection = try await NATSConnection.connect(options: options)
        self.connection = connection
        return connection
    }

    private func record(_ message: StoredMessage, sequence: UInt64) -> StreamRecord {
        let headers = message.headers.map { $0.map { ($0.name, $0.value) } } ?? []
        let messageID = headers.first { $0.0 == "Nats-Msg-Id" }?.1
        let content: StreamRecord.Content
        do {
            switch try opener.open(subject: message.subject, headers: headers, payload: message.payload) {
            case .event(let event, let channel): content = .event(event, channel: channel)
            case .batch: content = .batch
            case .heartbeat: content = .heartbeat
            case .anomaly, .flapping: content = .securitySignal
            }
        } catch {
            content = .unreadable("\(error)")
        }
        return StreamRecord(sequence: sequence, subject: message.subject, messageID: messageID, content: content)
    }
}
