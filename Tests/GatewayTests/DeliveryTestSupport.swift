import Foundation
import NATSClient
import NATSTestSupport
import Outbox
import Synchronization
import Timekeeping

@testable import Gateway

/// Starts a real nats-server (NATSTestSupport) on a free loopback port, JetStream on disk by default.
func startNATSServer(jetStream: Bool = true, extraConfig: String = "") async throws -> NATSServerProcess {
    let server = try NATSServerProcess(jetStream: jetStream, extraConfig: extraConfig)
    try await server.start()
    return server
}

/// An in-memory outbox journal for worker tests while the SQLite `OutboxStore` has not landed.
final class InMemoryJournal: DeliveryJournal {
    struct Row {
        var message: OutboxMessage
        var delivered = false
        var streamSequence: UInt64?
        var parked: String?
        var attempts = 0
    }

    private let rows = Mutex<[Row]>([])
    private let markCalls = Mutex<[[Int64]]>([])
    private let markHook = Mutex<(@Sendable ([Int64]) throws -> Void)?>(nil)

    init() {}

    /// The sequences of every `markDelivered` call (one transaction each), in call order.
    var markedGroups: [[Int64]] { markCalls.withLock { $0 } }

    /// Runs `hook` at the start of every `markDelivered` call (before anything is marked); a throw fails the call.
    func onMarkDelivered(_ hook: (@Sendable ([Int64]) throws -> Void)?) {
        markHook.withLock { $0 = hook }
    }

    func append(subject: String, messageID: String, payload: [UInt8]) {
        rows.withLock { rows in
            let seq = Int64(rows.count + 1)
            rows.append(
                Row(
                    message: OutboxMessage(
                        seq: seq, messageID: messageID, eventID: messageID, kind: .event, subject: subject,
                        agentID: nil, payload: payload, createdAt: SystemClock.epochMilliseconds())))
        }
    }

    var snapshot: [Row] { rows.withLock { $0 } }

    func pendingMessages(afterSeq: Int64, limit: Int) throws -> [OutboxMessage] {
        rows.withLock { rows in
            Array(
                rows.lazy.filter { $0.message.seq > afterSeq && !$0.delivered && $0.parked == nil }.prefix(limit)
                    .map(\.message))
        }
    }

    func markDelivered(_ seqs: [(seq: Int64, streamSequence: UInt64?)], at: Int64) throws {
        try markHook.withLock { $0 }?(seqs.map(\.seq))
        markCalls.withLock { $0.append(seqs.map(\.seq)) }
        rows.withLock { rows in
            // Like the outbox: a row already delivered keeps its first acknowledgement.
            for (seq, streamSequence) in seqs where !rows[Int(seq - 1)].delivered {
                rows[Int(seq - 1)].delivered = true
                rows[Int(seq - 1)].streamSequence = streamSequence
            }
        }
    }

    func recordFailure(seq: Int64, error: String, nextAttemptAt: Int64?) throws {
        rows.withLock { $0[Int(seq - 1)].attempts += 1 }
    }

    func park(seq: Int64, error: String) throws {
        rows.withLock { $0[Int(seq - 1)].parked = error }
    }

    func pendingCount() throws -> Int {
        rows.withLock { rows in rows.filter { !$0.delivered && $0.parked == nil }.count }
    }

    func oldestPendingCreatedAt() throws -> Int64? {
        rows.withLock { rows in rows.first { !$0.delivered && $0.parked == nil }?.message.createdAt }
    }

    func prune(olderThan: Int64, maxBytes: Int64?) throws -> Int { 0 }
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

/// Waits until `condition` holds, polling, for at most `timeout`.
func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return condition()
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
