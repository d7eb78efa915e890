import Foundation
import Gateway
import Logging
import NATSClient
import NIOCore
import Outbox
import WireContract

/// The `replay` command's logic: re-publishes journaled messages to their original subjects.
///
/// - Which: a ``ReplaySelection``. By default only delivered messages (the server acknowledged them
///   once); `includeUndelivered` adds pending and parked ones.
/// - How: sealed exactly as the gateway seals them — the journaled payload already carries its
///   signature; compression and encryption follow the configuration (a fresh nonce per send).
/// - Identity: `Nats-Msg-Id` is the original id plus `:replay:<replay id>`. A new replay id per run
///   makes JetStream keep the copies (they are not duplicates of the originals); within one run, or
///   when a run is repeated with the same `--replay-id`, a resent message has the same id and the
///   stream stores it once.
/// - In `jetstream` mode publishes are pipelined and every PubAck awaited; a message whose ack failed
///   (timeout, lost connection) is resent with the same id up to `attempts` times. `request` mode waits
///   for any reply; `publish` mode sends and flushes (best effort, as in the gateway).
public struct ReplayRun: Sendable {
    /// Suffix separating the original message id from the replay id in `Nats-Msg-Id`.
    public static let messageIDSeparator = ":replay:"

    /// What one replay did.
    public struct Report: Sendable, Hashable {
        public var replayID: String
        /// Messages selected from the journal.
        public var selected: Int
        /// Acknowledged (or, in `publish` mode, flushed) and new to the stream.
        public var published: Int
        /// Acknowledged as duplicates: already stored under the same replay id.
        public var duplicates: Int
        /// Not acknowledged after every attempt.
        public var failed: Int
        /// One line per failed message (seq, message id, error); no payloads.
        public var failures: [String]
        /// The copies acknowledged as new, for the audit log (kind `replay`).
        public var acknowledged: [AuditedDelivery] = []
    }

    public var configuration: GatewayConfiguration
    public var selection: ReplaySelection
    /// Unique per run unless the operator repeats one on purpose.
    public var replayID: String
    /// Sends per message before it counts as failed.
    public var attempts: Int
    public var logger: Logger

    public init(
        configuration: GatewayConfiguration, selection: ReplaySelection, replayID: String = ReplayRun.makeReplayID(),
        attempts: Int = 3, logger: Logger = Logger(label: "replay", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.selection = selection
        self.replayID = replayID
        self.attempts = max(1, attempts)
        self.logger = logger
    }

    /// A fresh replay id: UTC time and random hex, e.g. `20261129T070512Z-3f9a1c`.
    public static func makeReplayID(now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let random = (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        return formatter.string(from: now) + "-" + random
    }

    /// Checks a `--replay-id`: it becomes part of a header value, so only `[A-Za-z0-9_.-]`, 1–64 long.
    public static func validateReplayID(_ id: String) throws(OperatorCommandError) {
        let valid =
            (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    return true
                default:
                    return false
                }
            }
        guard valid else {
            throw OperatorCommandError(.invalidArgument, "--replay-id must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        }
    }

    /// The `Nats-Msg-Id` a replayed copy of `message` carries.
    public func replayMessageID(for message: OutboxMessage) -> String {
        message.messageID + Self.messageIDSeparator + self.replayID
    }

    /// Rows read from the journal per query: a replay of any size holds at most this many in memory.
    public static let pageSize = 1000

    /// Calls `body` with the selected journal rows, page by page, in journal order.
    func forEachSelectedPage(
        _ body: ([OutboxMessage]) async throws(OperatorCommandError) -> Void
    ) async throws(OperatorCommandError) {
        let reader = try OutboxInspection.openExisting(self.configuration)
        defer { try? reader.close() }
        var selection = self.selection
        while true {
            let page: [OutboxMessage]
            do {
                page = try selection.entries(
                    in: reader, deliveredOnly: !selection.includeUndelivered, limit: Self.pageSize,
                    pageSize: Self.pageSize
                ).map(\.message)
            } catch {
                throw OperatorCommandError(.outboxUnavailable, error.description)
            }
            guard let last = page.last else { return }
            try await body(page)
            guard page.count == Self.pageSize else { return }
            selection.fromSeq = last.seq + 1
        }
    }

    /// `--dry-run`: one tab-separated line per selected message (seq, subject, replay message id,
    /// journaled time) through `output`, after a header line starting with `#` and followed by a
    /// count line. Nothing is connected or sent. Returns how many messages were selected.
    @discardableResult
    public func dryRun(output: (String) -> Void) async throws(OperatorCommandError) -> Int {
        output("# seq\tsubject\tmessage_id\tcreated")
        var count = 0
        try await self.forEachSelectedPage { page throws(OperatorCommandError) in
            for message in page {
                output(
                    "\(message.seq)\t\(message.subject)\t\(self.replayMessageID(for: message))\t"
                        + OutboxInspection.timestamp(milliseconds: message.createdAt))
            }
            count += page.count
        }
        output("# \(count) message(s) would be replayed with replay id \(self.replayID)")
        return count
    }

    /// Connects with the configured options, replays page by page, and closes the connection.
    public func run() async throws(OperatorCommandError) -> Report {
        let connection = try await SubscriberConnection.connect(
            self.configuration, clientName: "wazuh-nats-gateway replay", logger: self.logger)
        var report = Report(
            replayID: self.replayID, selected: 0, published: 0, duplicates: 0, failed: 0, failures: [])
        do throws(OperatorCommandError) {
            try await self.forEachSelectedPage { page throws(OperatorCommandError) in
                let part = try await self.publish(page, over: connection)
                report.selected += part.selected
                report.published += part.published
                report.duplicates += part.duplicates
                report.failed += part.failed
                report.failures += part.failures
                try self.audit(part.acknowledged)
            }
        } catch {
            await connection.close()
            throw error
        }
        try? await connection.drain(timeout: .seconds(5))
        await connection.close()
        return report
    }

    /// Replays `messages` over an open connection (which stays open).
    public func publish(_ messages: [OutboxMessage], over connection: NATSConnection)
        async throws(OperatorCommandError) -> Report
    {
        let sealer = try SubscriberConnection.sealer(self.configuration)
        var report = Report(
            replayID: self.replayID, selected: messages.count, published: 0, duplicates: 0, failed: 0, failures: [])
        var remaining = messages
        var lastError: [Int64: String] = [:]
        for attempt in 1...self.attempts where !remaining.isEmpty {
            var retry: [OutboxMessage] = []
            switch self.configuration.nats.delivery {
            case .jetstream:
                let context = connection.jetStream(
                    timeout: self.configuration.nats.requestTimeout,
                    maxPending: max(1, self.configuration.delivery.maxInFlight))
                var pending: [(OutboxMessage, SealedMessage?, PendingAck?)] = []
                for message in remaining {
                    do {
                        let sealed = try self.seal(message, with: sealer)
                        let ack = try await context.publishPipelined(
                            subject: sealed.subject, payload: ByteBuffer(bytes: sealed.payload),
                            headers: Self.headers(sealed), messageID: self.replayMessageID(for: message))
                        pending.append((message, sealed, ack))
                    } catch {
                        lastError[message.seq] = "\(error)"
                        pending.append((message, nil, nil))
                    }
                }
                for (message, sealed, ack) in pending {
                    guard let sealed, let ack else {
                        retry.append(message)
                        continue
                    }
                    do {
                        let pubAck = try await ack.result()
                        if pubAck.duplicate {
                            report.duplicates += 1
                        } else {
                            report.published += 1
                            report.acknowledged.append(
                                self.audited(message, sealed, streamSequence: pubAck.seq))
                        }
                    } catch {
                        lastError[message.seq] = "\(error)"
                        retry.append(message)
                    }
                }
            case .request, .publish:
                for message in remaining {
                    do {
                        let sealed = try self.seal(message, with: sealer)
                        var headers = Self.headers(sealed)
                        headers.set(name: WireHeaders.messageID, value: self.replayMessageID(for: message))
                        if self.configuration.nats.delivery == .request {
                            _ = try await connection.request(
                                subject: sealed.subject, headers: headers, payload: ByteBuffer(bytes: sealed.payload),
                                timeout: self.configuration.nats.requestTimeout)
                        } else {
                            try await connection.publish(
                                subject: sealed.subject, headers: headers, payload: ByteBuffer(bytes: sealed.payload))
                        }
                        report.published += 1
                        report.acknowledged.append(self.audited(message, sealed, streamSequence: nil))
                    } catch {
                        lastError[message.seq] = "\(error)"
                        retry.append(message)
                    }
                }
                if self.configuration.nats.delivery == .publish {
                    do {
                        try await connection.flush(timeout: self.configuration.nats.requestTimeout)
                    } catch {
                        throw OperatorCommandError(.natsFailure, "flushing the replayed messages failed: \(error)")
                    }
                }
            }
            if !retry.isEmpty {
                self.logger.warning(
                    "replay: messages not acknowledged, resending with the same ids",
                    metadata: [
                        "replay.id": "\(self.replayID)", "replay.count": "\(retry.count)",
                        "replay.attempt": "\(attempt)",
                    ])
            }
            remaining = retry
        }
        report.failed = remaining.count
        report.failures = remaining.map { message in
            "seq \(message.seq) \(message.messageID): \(lastError[message.seq] ?? "not acknowledged")"
        }
        return report
    }

    private func audited(_ message: OutboxMessage, _ sealed: SealedMessage, streamSequence: UInt64?) -> AuditedDelivery
    {
        AuditedDelivery(
            seq: message.seq, streamSequence: streamSequence, subject: sealed.subject,
            messageID: self.replayMessageID(for: message), payloadSHA256: AuditRecord.sha256(sealed.payload),
            kind: .replay)
    }

    /// Appends the acknowledged copies to the outbox's audit chain (`outbox.audit`), in one transaction.
    /// In `publish` mode they count once the flush after them returned.
    func audit(_ acknowledged: [AuditedDelivery]) throws(OperatorCommandError) {
        guard self.configuration.outbox.audit, !acknowledged.isEmpty else { return }
        do {
            let store = try OutboxStore(path: self.configuration.outbox.path, synchronous: .normal)
            defer { try? store.close() }
            try store.appendAudit(acknowledged, at: OutboxStore.wallClockMilliseconds())
        } catch {
            throw OperatorCommandError(
                .outboxUnavailable, "the replayed messages were sent but not audited: \(error.description)")
        }
    }

    private func seal(_ message: OutboxMessage, with sealer: MessageSealer) throws -> SealedMessage {
        try sealer.seal(
            subject: message.subject, signedPayload: message.payload, messageID: self.replayMessageID(for: message))
    }

    /// The sealed headers without `Nats-Msg-Id` (JetStream's publish sets it from `messageID`).
    private static func headers(_ sealed: SealedMessage) -> NATSHeaders {
        var headers = NATSHeaders()
        for (name, value) in sealed.headers where name != WireHeaders.messageID {
            headers.append(name: name, value: value)
        }
        return headers
    }

    /// The command's closing lines: counts and every failure.
    public static func summaryLines(_ report: Report) -> [String] {
        var lines = [
            "replay \(report.replayID): selected \(report.selected), published \(report.published), "
                + "already stored \(report.duplicates), failed \(report.failed)"
        ]
        lines.append(contentsOf: report.failures.map { "failed: " + $0 })
        return lines
    }
}
