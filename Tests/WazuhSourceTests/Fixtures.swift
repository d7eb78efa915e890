import Foundation
import GRDB
import Testing
import WazuhSimulator
import WazuhSource

/// A fresh directory under the system temp dir, removed when the value is released.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/wazuh-source-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `body`, failing with `TimeoutError` after `limit`. Every wait in these tests goes through it.
func withTimeout<T: Sendable>(
    _ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(what: what)
        }
        defer { group.cancelAll() }
        guard let result = try await group.next() else { throw TimeoutError(what: what) }
        return result
    }
}

/// A fixed Unix time used by step-driven tests (2026-01-01T00:00:00Z).
let baseTime: Int64 = 1_767_225_600

extension WazuhSimulator {
    /// A simulator with deterministic times, committing only when told to.
    static func fixture(
        _ path: String, schema: SimulatedSchema = .wazuh4(minor: 14), agents: Int = 10, seed: UInt64 = 7,
        initiallyActive: Double = 0.9
    ) throws -> WazuhSimulator {
        try WazuhSimulator(
            configuration: .init(
                databasePath: path, schema: schema, agentCount: agents, seed: seed, commitIdle: .seconds(3600),
                commitMaxAge: .seconds(3600), initiallyActive: initiallyActive),
            now: baseTime)
    }
}

/// Opens a plain read-write GRDB connection for tests that craft rows by hand.
func openForWriting(_ path: String) throws -> DatabaseQueue {
    var configuration = Configuration()
    configuration.busyMode = .timeout(5)
    return try DatabaseQueue(path: path, configuration: configuration)
}
