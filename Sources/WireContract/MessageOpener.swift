/// A verified message as the consumer sees it.
public enum OpenedMessage: Sendable, Hashable {
    /// An event on `{p}.agent.{id}.{channel}`; `channel` is `status`, `connected`, `disconnected`,
    /// `registered` or `removed`.
    case event(AgentStatusEvent, channel: String)
    /// A batch (or one part of a split batch); the batch and every nested event were verified.
    case batch(BatchStatusUpdate)
    case heartbeat(Heartbeat)
    /// An anomaly finding (contract 1.1), on `{p}.security.anomaly` or `{p}.agent.{id}.anomaly`.
    case anomaly(AnomalyEvent)
    /// A rate-limited agent's window summary (contract 1.1), on `{p}.agent.{id}.flapping`.
    case flapping(FlappingSummary)
}

/// Consumer side: the inverse of ``MessageSealer`` plus verification.
///
/// Steps, each failing with its own ``WireError/Code``: decrypt (when `Wazuh-Encryption` says so), decompress
/// within `maximumDecompressedBytes` (when `Content-Encoding: lz4`), parse (size and depth bounded), check
/// the object's shape for its subject, verify the signature — of a batch and of each of its events — and
/// check that the subject's agent id or node matches the object.
public struct MessageOpener: Sendable {
    public var subjects: Subjects
    public var signingKey: SigningKey
    /// Needed only for encrypted messages.
    public var encryptionKey: EncryptionKey?
    public var maximumDecompressedBytes: Int
    public var parser: JSONParser

    public init(
        subjects: Subjects, signingKey: SigningKey, encryptionKey: EncryptionKey? = nil,
        maximumDecompressedBytes: Int = LZ4Frame.defaultMaximumDecompressedBytes, parser: JSONParser = JSONParser()
    ) {
        self.subjects = subjects
        self.signingKey = signingKey
        self.encryptionKey = encryptionKey
        self.maximumDecompressedBytes = maximumDecompressedBytes
        self.parser = parser
    }

    /// Opens a sealed message.
    public func open(_ message: SealedMessage) throws(WireError) -> OpenedMessage {
        try self.open(subject: message.subject, headers: message.headers, payload: message.payload)
    }

    /// Opens a message received on `subject` with `headers` (names case-insensitive) and `payload`.
    public func open(subject: String, headers: [(String, String)], payload: [UInt8]) throws(WireError) -> OpenedMessage
    {
        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        guard let kind = self.subjects.classify(subject) else {
            throw WireError(code: .invalidMessage, message: "subject \(subject) is not a contract subject")
        }

        var bytes = payload
        if let encryption = header(WireHeaders.encryption) {
            guard encryption.lowercased() == WireHeaders.aes256GCM else {
                throw WireError(code: .unsupportedEncoding, message: "unknown Wazuh-Encryption \(encryption)")
            }
            guard let key = self.encryptionKey else {
                throw WireError(
                    code: .encryptionKeyMissing, message: "message is encrypted; no encryption key configured")
            }
            bytes = try PayloadCipher.open(bytes, subject: subject, key: key)
        }
        if let encoding = header(WireHeaders.contentEncoding) {
            guard encoding.lowercased() == WireHeaders.lz4 else {
                throw WireError(code: .unsupportedEncoding, message: "unknown Content-Encoding \(encoding)")
            }
            bytes = try LZ4Frame.decompress(bytes, maximumBytes: self.maximumDecompressedBytes)
        }

        let value: JSONValue
        do {
            value = try self.parser.parse(bytes)
        } catch {
            throw WireError(code: .malformedJSON, message: "payload is not valid JSON", parseError: error)
        }
        guard let object = value.objectValue else {
            throw WireError(code: .invalidMessage, message: "payload is not a JSON object")
        }

        switch kind {
        case .agentEvent(let agentToken, let channel):
            let event = try AgentStatusEvent(jsonObject: object)
            try self.verify(object, what: "event \(event.eventID)")
            guard event.agentID == agentToken else {
                throw WireError(
                    code: .invalidMessage, message: "event agent_id \(event.agentID) does not match subject \(subject)")
            }
            return .event(event, channel: channel)
        case .batch:
            let batch = try BatchStatusUpdate(jsonObject: object)
            try self.verify(object, what: "batch \(batch.batchID)")
            for (index, element) in (object["events"]?.arrayValue ?? []).enumerated() {
                guard let eventObject = element.objectValue else { continue }
                try self.verify(eventObject, what: "batch \(batch.batchID) event \(index)")
            }
            return .batch(batch)
        case .heartbeat(let nodeToken):
            let heartbeat = try Heartbeat(jsonObject: object)
            try self.verify(object, what: "heartbeat")
            guard Subjects.nodeToken(heartbeat.managerNode) == nodeToken else {
                throw WireError(
                    code: .invalidMessage, message: "heartbeat manager_node does not match subject \(subject)")
            }
            return .heartbeat(heartbeat)
        case .anomaly(let agentToken):
            let anomaly = try AnomalyEvent(jsonObject: object)
            try self.verify(object, what: "anomaly \(anomaly.eventID)")
            if let agentToken, anomaly.agentID != agentToken {
                throw WireError(
                    code: .invalidMessage, message: "anomaly agent_id does not match subject \(subject)")
            }
            return .anomaly(anomaly)
        case .flapping(let agentToken):
            let summary = try FlappingSummary(jsonObject: object)
            try self.verify(object, what: "flapping summary \(summary.eventID)")
            guard summary.agentID == agentToken else {
                throw WireError(
                    code: .invalidMessage, message: "flapping summary agent_id does not match subject \(subject)")
            }
            return .flapping(summary)
        }
    }

    private func verify(_ object: [String: JSONValue], what: String) throws(WireError) {
        guard object[SigningKey.signatureMember] != nil else {
            throw WireError(code: .signatureMissing, message: "\(what) has no signature")
        }
        guard self.signingKey.verify(object) else {
            throw WireError(code: .signatureMismatch, message: "\(what) signature does not verify")
        }
    }
}
