import Foundation
import GRDB
import Outbox
import Synchronization

extension TemporaryDirectory {
    /// Where the tests put the outbox journal.
    var outboxPath: String { self.file("outbox.sqlite") }
}

/// A settable clock in epoch milliseconds.
final class TestClock: Sendable {
    private let current: Mutex<Int64>

    init(_ start: Int64 = 1_716_897_300_000) {
        self.current = Mutex(start)
    }

    var now: Int64 { self.current.withLock { $0 } }

    func advance(by milliseconds: Int64) {
        self.current.withLock { $0 += milliseconds }
    }

    var function: @Sendable () -> Int64 { { self.now } }
}

enum Fixtures {
    static func message(_ index: Int, agent: Int? = nil, kind: OutboxMessageKind = .event, size: Int = 200)
        -> NewOutboxMessage
    {
        let agentToken = String(format: "%03d", agent ?? index)
        return NewOutboxMessage(
            messageID: "evt_\(agentToken)_\(index)", eventID: "evt_\(agentToken)_\(index)", kind: kind,
            subject: "wazuh.agent.\(agentToken).status", agentID: kind == .batch ? nil : agentToken,
            payload: Array(repeating: UInt8(truncatingIfNeeded: index), count: size))
    }

    static func open(_ dir: TemporaryDirectory, clock: TestClock, synchronous: OutboxSynchronous = .full) throws
        -> OutboxStore
    {
        try OutboxStore(path: dir.outboxPath, synchronous: synchronous, now: clock.function)
    }

    /// A fresh directory, a settable clock and an outbox store on them.
    static func openFresh() throws -> (TemporaryDirectory, TestClock, OutboxStore) {
        let dir = try TemporaryDirectory()
        let clock = TestClock()
        return (dir, clock, try self.open(dir, clock: clock))
    }

    /// Runs SQL on the outbox file through a separate connection (to set up triggers, inspect rows).
    static func withConnection<T>(_ path: String, _ body: (Database) throws -> T) throws -> T {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.writeWithoutTransaction(body)
    }
}
