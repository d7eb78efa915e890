import Foundation
import Logging
import NATSClient
import NATSTestSupport
import Outbox
import Synchronization
import Testing

@testable import Gateway

/// The real outbox journal (`OutboxStore` on a file in a temporary directory) for worker tests, with what they
/// look at: each row's delivery state, and the seqs of every `markDelivered` call.
///
/// It forwards every journal call to the store; only `markDelivered` is also recorded (and can be made to fail,
/// before anything is marked, through ``onMarkDelivered(_:)``). A store read that fails records an issue, so the
/// test fails.
final class RecordingOutbox: DeliveryJournal {
    /// A journal row as the tests see it.
    struct Row {
        var message: OutboxMessage
        var delivered: Bool
        var streamSequence: UInt64?
        /// The error the row was parked with, `nil` while it is not parked.
        var parked: String?
        var attempts: Int
    }

    let directory: TemporaryDirectory
    let store: OutboxStore
    private let markCalls = Mutex<[[Int64]]>([])
    private let markHook = Mutex<(@Sendable ([Int64]) throws -> Void)?>(nil)

    init() throws {
        self.directory = try TemporaryDirectory(prefix: "delivery-outbox")
        self.store = try OutboxStore(path: self.directory.file("outbox.db"), synchronous: .normal)
    }

    deinit {
        try? self.store.close()
    }

    /// The seqs of every `markDelivered` call (one transaction each), in call order.
    var markedGroups: [[Int64]] { self.markCalls.withLock { $0 } }

    /// Runs `hook` at the start of every `markDelivered` call (before anything is marked); a throw fails the call.
    func onMarkDelivered(_ hook: (@Sendable ([Int64]) throws -> Void)?) {
        self.markHook.withLock { $0 = hook }
    }

    /// Journals one message per entry, in one transaction, in order.
    func append(_ messages: [(subject: String, messageID: String, payload: [UInt8])]) {
        do {
            try self.store.appendMessages(
                messages.map {
                    NewOutboxMessage(
                        messageID: $0.messageID, eventID: $0.messageID, kind: .event, subject: $0.subject,
                        agentID: nil, payload: $0.payload)
                })
        } catch {
            Issue.record("journaling into the outbox failed: \(error)")
        }
    }

    func append(subject: String, messageID: String, payload: [UInt8]) {
        self.append([(subject: subject, messageID: messageID, payload: payload)])
    }

    /// Whether every row is delivered (none pending, none parked), from two counts instead of reading every row:
    /// tests poll it while the worker writes.
    var allDelivered: Bool {
        do {
            return try self.store.pendingCount() == 0 && self.store.parkedCount() == 0
        } catch {
            Issue.record("reading the outbox failed: \(error)")
            return false
        }
    }

    /// Every row, in journal order.
    var snapshot: [Row] {
        do {
            return try self.store.entries(matching: OutboxQuery(limit: Int.max)).map { entry in
                Row(
                    message: entry.message, delivered: entry.deliveredAt != nil, streamSequence: entry.streamSequence,
                    parked: entry.parkedAt == nil ? nil : (entry.lastError ?? ""), attempts: entry.attempts)
            }
        } catch {
            Issue.record("reading the outbox failed: \(error)")
            return []
        }
    }

    func pendingMessages(afterSeq: Int64, limit: Int) throws -> [OutboxMessage] {
        try self.store.pendingMessages(afterSeq: afterSeq, limit: limit)
    }

    func markDelivered(_ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64) throws {
        try self.markHook.withLock { $0 }?(seqs.map(\.seq))
        self.markCalls.withLock { $0.append(seqs.map(\.seq)) }
        try self.store.markDelivered(seqs, at: at)
    }

    func recordFailure(seq: Int64, error: String, nextAttemptAt: Int64?) throws {
        try self.store.recordFailure(seq: seq, error: error, nextAttemptAt: nextAttemptAt)
    }

    func park(seq: Int64, error: String) throws {
        try self.store.park(seq: seq, error: error)
    }

    func pendingCount() throws -> Int {
        try self.store.pendingCount()
    }

    func oldestPendingCreatedAt() throws -> Int64? {
        try self.store.oldestPendingCreatedAt()
    }

    func prune(olderThan: Int64, maxBytes: Int64?) throws -> Int {
        try self.store.prune(olderThan: olderThan, maxBytes: maxBytes)
    }
}

/// Passes the signed payload through with the contract headers (no compression, no encryption).
struct PassThroughSealer: DeliverySealer {
    func seal(_ message: OutboxMessage) throws -> OutgoingMessage {
        OutgoingMessage(
            subject: message.subject,
            headers: [
                .init(name: "Nats-Msg-Id", value: message.messageID),
                .init(name: "Content-Type", value: "application/json"),
            ],
            payload: message.payload)
    }
}

/// What ``deliverToJetStream(_:stream:subjects:sealer:configuration:expecting:ackTimeout:logger:)`` saw.
struct JetStreamDelivery {
    /// What a listener on the stream's subjects received, in order.
    var received: [NATSMessage]
    /// Whether the outbox had nothing pending (within the bounded wait).
    var drained: Bool
    /// The worker that delivered (stopped), for its status.
    var worker: DeliveryWorker
}

/// Delivers every pending row of `store` through a `DeliveryWorker` to the stream `stream` (capturing `subjects`)
/// of a fresh JetStream server, while a listener collects what the server passes on; returns once `count`
/// messages arrived and the outbox drained (each wait bounded), with the worker, connections and server stopped.
func deliverToJetStream(
    _ store: OutboxStore, stream: String, subjects: String, sealer: some DeliverySealer,
    configuration: DeliveryWorkerConfiguration, expecting count: Int, ackTimeout: Duration = .seconds(2),
    logger: Logger
) async throws -> JetStreamDelivery {
    try await withNATSServer(jetStream: true) { server in
        var options = try NATSConnectionOptions(url: server.url)
        options.requestTimeout = ackTimeout
        return try await withNATSConnection(options) { connection in
            try await withNATSConnection(options) { listener in
                let subscription = try await listener.subscribe(subject: subjects)
                try await listener.flush()
                let transport = NATSDeliveryTransport(
                    connection: connection,
                    mode: .jetstream(JetStreamSettings(streamName: stream, subjects: [subjects])),
                    ackTimeout: ackTimeout, logger: logger)
                let worker = DeliveryWorker(
                    journal: store, transport: transport, sealer: sealer, configuration: configuration, logger: logger)
                let (received, drained) = try await withRunningService(worker, logger: logger) {
                    let received = await collect(subscription, count: count)
                    return (received, try await waitUntil { (try? store.pendingCount()) == 0 })
                }
                return JetStreamDelivery(received: received, drained: drained, worker: worker)
            }
        }
    }
}

/// Collects up to `count` messages from `subscription`, giving up after `timeout`.
func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .seconds(10)) async -> [NATSMessage] {
    await withTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var messages: [NATSMessage] = []
            for await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        var result: [NATSMessage] = []
        for await outcome in group {
            if let outcome {
                result = outcome
                group.cancelAll()
                break
            }
            // The timeout won: stop the collector, keep what it had.
            group.cancelAll()
        }
        return result
    }
}

/// A thread-safe list of strings that escaping closures may append to.
final class StringRecorder: Sendable {
    private let values = Mutex<[String]>([])

    func append(_ value: String) { values.withLock { $0.append(value) } }

    var all: [String] { values.withLock { $0 } }
}
