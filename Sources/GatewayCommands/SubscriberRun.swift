import Foundation
import Gateway
import Logging
import NATSClient
import WireContract

/// The `subscribe` command's logic: the sample consumer of the wire contract.
///
/// For every message: decrypt, decompress, parse and verify with ``MessageOpener`` (a batch and each
/// of its events), then print one JSON object per line — `{"subject":…,"verified":true,"kind":…,"message":{…}}`
/// or `{"subject":…,"verified":false,"error":…}` — or, in compact format, one short human-readable line.
/// Failures are also logged. Live by default; `fromStream` reads what the JetStream stream holds through
/// a pull consumer, from its first message (or `fromSequence`, or `since`) to the last one stored when
/// reading began, and with `follow` goes on with every message stored later; with `durable` the consumer
/// is durable and a later run resumes where this one left off.
public struct SubscriberRun: Sendable {
    /// How each message is printed.
    public enum OutputFormat: String, Sendable, Hashable {
        /// One JSON object per line (the `subscribe` command's format).
        case json
        /// A short line per verified event, batch and heartbeat (the demo's format); secondary-channel
        /// copies of an event are counted but not printed again.
        case compact
    }

    /// What to read and when to stop.
    public struct Options: Sendable {
        /// Subject filter (NATS wildcards allowed); `nil` means `{prefix}.>`.
        public var subject: String?
        /// Stop after this many messages (verified or not).
        public var count: Int?
        /// Stop after this long in total.
        public var timeout: Duration?
        /// Stop at the first message that fails to open or verify.
        public var strict: Bool
        /// Read the stream from its start instead of subscribing live.
        public var fromStream: Bool
        /// With `fromStream`: after the last stored message, wait for new ones and print each as it is
        /// stored (like `tail -f`) until `count`, `timeout`, a strict failure or cancellation. A message
        /// that fails verification is reported and following goes on.
        public var follow: Bool
        /// With `fromStream`: the first stream sequence to read (default: the stream's first message).
        public var fromSequence: UInt64?
        /// With `fromStream`: the first message stored at or after this time.
        public var since: Date?
        /// With `fromStream`: read through the durable consumer of this name, acknowledging each message
        /// once it is verified and printed, so the next run resumes after it. `fromSequence` and `since`
        /// only apply when the consumer is created.
        public var durable: String?
        /// With `follow`: the pause before opening the consumer again after a failure; also sets how often
        /// the server's heartbeats are expected (ten times this, between 1 and 5 seconds).
        public var pollInterval: Duration
        public var format: OutputFormat

        public init(
            subject: String? = nil, count: Int? = nil, timeout: Duration? = nil, strict: Bool = false,
            fromStream: Bool = false, follow: Bool = false, fromSequence: UInt64? = nil, since: Date? = nil,
            durable: String? = nil, pollInterval: Duration = .milliseconds(500), format: OutputFormat = .json
        ) {
            self.subject = subject
            self.count = count
            self.timeout = timeout
            self.strict = strict
            self.fromStream = fromStream
            self.follow = follow
            self.fromSequence = fromSequence
            self.since = since
            self.durable = durable
            self.pollInterval = pollInterval
            self.format = format
        }
    }

    /// What a subscription saw.
    public struct Report: Sendable, Hashable {
        /// Messages received (verified or not).
        public var received = 0
        /// Messages that opened and verified.
        public var verified = 0
        /// Messages that failed to open or verify.
        public var failed = 0
        /// Verified agent events by channel (`status`, `connected`, …).
        public var eventsByChannel: [String: Int] = [:]
        public var batches = 0
        public var heartbeats = 0
        /// Stopped because `strict` was set and a message failed.
        public var stoppedOnFailure = false
        /// `count` was set and reached.
        public var reachedCount = false

        public init() {}
    }

    public var opener: MessageOpener
    public var options: Options
    /// Stream name for `fromStream` (`nats.stream`).
    public var streamName: String
    public var requestTimeout: Duration
    public var logger: Logger

    public init(
        opener: MessageOpener, options: Options, streamName: String = "WAZUH", requestTimeout: Duration = .seconds(5),
        logger: Logger = Logger(label: "subscribe", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.opener = opener
        self.options = options
        self.streamName = streamName
        self.requestTimeout = requestTimeout
        self.logger = logger
    }

    /// A subscriber with the configuration's prefix, keys and stream.
    public init(configuration: GatewayConfiguration, options: Options, logger: Logger) throws(OperatorCommandError) {
        let subjects: Subjects
        do {
            subjects = try Subjects(prefix: configuration.nats.subjectPrefix)
        } catch {
            throw OperatorCommandError(.invalidConfiguration, "nats.subject_prefix: \(error)")
        }
        let opener = MessageOpener(
            subjects: subjects, signingKey: try SubscriberConnection.signingKey(configuration),
            encryptionKey: try SubscriberConnection.encryptionKey(configuration))
        self.init(
            opener: opener, options: options, streamName: configuration.nats.stream,
            requestTimeout: configuration.nats.requestTimeout, logger: logger)
    }

    /// Connects with the configuration's NATS options, runs, and closes the connection.
    public static func run(
        configuration: GatewayConfiguration, options: Options, logger: Logger,
        output: @escaping @Sendable (String) -> Void
    ) async throws(OperatorCommandError) -> Report {
        let subscriber = try SubscriberRun(configuration: configuration, options: options, logger: logger)
        let connection = try await SubscriberConnection.connect(
            configuration, clientName: "wazuh-nats-gateway subscribe", logger: logger)
        let result: Result<Report, OperatorCommandError>
        do throws(OperatorCommandError) {
            result = .success(try await subscriber.run(on: connection, output: output))
        } catch {
            result = .failure(error)
        }
        await connection.close()
        return try result.get()
    }

    /// Reads messages over `connection` until `count`, `timeout`, a strict failure, the end of the
    /// stream (with `fromStream`, unless `follow`) or cancellation; prints each through `output`. `onSubscribed` is
    /// called once the live subscription is registered with the server (or at once with `fromStream`).
    public func run(
        on connection: NATSConnection, output: @escaping @Sendable (String) -> Void,
        onSubscribed: @Sendable () -> Void = {}
    ) async throws(OperatorCommandError) -> Report {
        let filter = self.options.subject ?? self.opener.subjects.all
        let subscription: NATSSubscription?
        if self.options.fromStream {
            subscription = nil
        } else {
            do {
                subscription = try await connection.subscribe(subject: filter)
                try await connection.flush(timeout: self.requestTimeout)
            } catch {
                throw OperatorCommandError(.natsFailure, "cannot subscribe to \(filter): \(error)")
            }
        }
        onSubscribed()
        let timeout = self.options.timeout
        let result: Result<Report, OperatorCommandError> = await withTaskGroup(
            of: Result<Report, OperatorCommandError>?.self
        ) { group in
            group.addTask {
                do throws(OperatorCommandError) {
                    if let subscription {
                        return .success(await self.consume(subscription, output: output))
                    }
                    return .success(try await self.readStream(connection, filter: filter, output: output))
                } catch {
                    return .failure(error)
                }
            }
            if let timeout {
                group.addTask {
                    try? await Task.sleep(for: timeout)
                    return nil
                }
            }
            var outcome: Result<Report, OperatorCommandError>?
            for await finished in group {
                if let finished {
                    outcome = finished
                    break
                }
                // The deadline passed first: stop the reader; it returns what it has seen.
                group.cancelAll()
            }
            group.cancelAll()
            return outcome ?? .success(Report())
        }
        if let subscription {
            try? await subscription.unsubscribe()
        }
        return try result.get()
    }

    /// Live: every message on the subscription until a stop condition or cancellation.
    private func consume(_ subscription: NATSSubscription, output: @Sendable (String) -> Void) async -> Report {
        var report = Report()
        for await message in subscription {
            let headers = (message.headers ?? NATSHeaders()).map { ($0.name, $0.value) }
            if self.handle(
                subject: message.subject, headers: headers, payload: message.payloadBytes, streamSequence: nil,
                report: &report, output: output)
            {
                break
            }
        }
        return report
    }

    /// Opens, prints and counts one message. Returns whether to stop.
    func handle(
        subject: String, headers: [(String, String)], payload: [UInt8], streamSequence: UInt64?,
        report: inout Report, output: @Sendable (String) -> Void
    ) -> Bool {
        report.received += 1
        var line: [String: JSONValue] = ["subject": .string(subject)]
        if let streamSequence { line["stream_seq"] = .int(Int64(truncatingIfNeeded: streamSequence)) }
        do {
            let opened = try self.opener.open(subject: subject, headers: headers, payload: payload)
            report.verified += 1
            line["verified"] = .bool(true)
            switch opened {
            case .event(let event, let channel):
                report.eventsByChannel[channel, default: 0] += 1
                line["kind"] = .string("event")
                line["channel"] = .string(channel)
                line["message"] = .object(event.jsonObject)
            case .batch(let batch):
                report.batches += 1
                line["kind"] = .string("batch")
                line["message"] = .object(batch.jsonObject)
            case .heartbeat(let heartbeat):
                report.heartbeats += 1
                line["kind"] = .string("heartbeat")
                line["message"] = .object(heartbeat.jsonObject)
            case .anomaly(let anomaly):
                line["kind"] = .string("anomaly")
                line["message"] = .object(anomaly.jsonObject)
            case .flapping(let summary):
                line["kind"] = .string("flapping")
                line["message"] = .object(summary.jsonObject)
            }
            switch self.options.format {
            case .json:
                output((try? CanonicalJSON.string(.object(line))) ?? "{}")
            case .compact:
                if let text = Self.compactLine(opened) { output(text) }
            }
        } catch {
            report.failed += 1
            self.logger.error(
                "message failed verification",
                metadata: ["nats.subject": "\(subject)", "wire.error": "\(error.code.rawValue)"])
            switch self.options.format {
            case .json:
                line["verified"] = .bool(false)
                line["error"] = .string(error.description)
                output((try? CanonicalJSON.string(.object(line))) ?? "{}")
            case .compact:
                output("!! \(subject): NOT VERIFIED: \(error.description)")
            }
            if self.options.strict {
                report.stoppedOnFailure = true
                return true
            }
        }
        if let count = self.options.count, report.received >= count {
            report.reachedCount = true
            return true
        }
        return false
    }

    /// The demo's line for a verified message; `nil` for secondary-channel copies.
    static func compactLine(_ opened: OpenedMessage) -> String? {
        switch opened {
        case .event(let event, let channel):
            guard channel == "status" else { return nil }
            let time = event.timestamp.split(separator: "T").last.map { String($0.prefix(8)) } ?? event.timestamp
            var text = "\(time)  agent \(event.agentID) \(event.agentName.debugDescription)  "
            switch event.eventType {
            case "registered": text += "registered (\(event.currentStatus))"
            case "removed": text += "removed (was \(event.previousStatus))"
            default: text += "\(event.previousStatus) -> \(event.currentStatus)"
            }
            if let reason = event.reason { text += "  reason=\(reason)" }
            return text + "  [verified]"
        case .batch(let batch):
            let fleet = batch.summary.fleet
            return "          batch of \(batch.events.count) event(s): fleet \(fleet.totalAgents) agents, "
                + "\(fleet.activeAgents) active, \(fleet.disconnectedAgents) disconnected  [verified]"
        case .heartbeat(let heartbeat):
            return "          heartbeat from \(heartbeat.managerNode): NATS \(heartbeat.natsState), "
                + "outbox depth \(heartbeat.outboxDepth)  [verified]"
        case .anomaly(let anomaly):
            return "!! ANOMALY \(anomaly.kind.rawValue) (\(anomaly.severity)): \(anomaly.explanation)  [verified]"
        case .flapping(let summary):
            return "          agent \(summary.agentID) flapping: \(summary.transitions) transitions "
                + "(\(summary.condensed) condensed), \(summary.firstStatus) -> \(summary.lastStatus)  [verified]"
        }
    }

    /// NATS subject matching: `*` matches one token, a final `>` one or more.
    static func subject(_ subject: String, matches filter: String) -> Bool {
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        let patterns = filter.split(separator: ".", omittingEmptySubsequences: false)
        for (index, pattern) in patterns.enumerated() {
            if pattern == ">" { return tokens.count > index }
            guard index < tokens.count else { return false }
            if pattern != "*" && pattern != tokens[index] { return false }
        }
        return tokens.count == patterns.count
    }
}
