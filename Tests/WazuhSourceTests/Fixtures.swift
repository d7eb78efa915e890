import Foundation
import GRDB
import Testing
import WazuhSimulator
import WazuhSource

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
