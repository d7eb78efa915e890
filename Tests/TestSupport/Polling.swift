import Foundation

/// A wait in a test or benchmark ran out of time (every wait there has a deadline).
public struct TestTimeout: Error, CustomStringConvertible {
    /// What was awaited, in words ("the outbox to drain").
    public var what: String

    public init(what: String) {
        self.what = what
    }

    public var description: String { "timed out waiting for \(self.what)" }
}

/// Polls `condition` every `poll` until it holds or `timeout` has passed, and returns whether it held (for
/// `#expect(try await waitUntil { … })`). The one polling loop of the tests; ``eventually(_:timeout:poll:_:)``
/// is the same loop throwing ``TestTimeout`` instead.
///
/// The machine running the tests is shared: give `timeout` a generous margin, it only bounds a failure.
public func waitUntil(
    timeout: Duration = .seconds(10), poll: Duration = .milliseconds(20),
    isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: poll)
    }
}

/// Polls `condition` every `poll` until it holds; throws ``TestTimeout`` naming `what` after `timeout`.
public func eventually(
    _ what: String, timeout: Duration = .seconds(10), poll: Duration = .milliseconds(20),
    isolation: isolated (any Actor)? = #isolation, _ condition: () async throws -> Bool
) async throws {
    guard try await waitUntil(timeout: timeout, poll: poll, condition) else { throw TestTimeout(what: what) }
}

/// Runs `body` and throws ``TestTimeout`` naming `what` when it has not finished within `limit` (the body is then
/// cancelled).
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TestTimeout(what: what) }
        return value
    }
}
