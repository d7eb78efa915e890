import Testing

@testable import WazuhSource

/// The pure planner of incremental reads: which agents are copied from the previous snapshot and
/// which are read afresh, without SQLite.
struct IncrementalReadPlanTests {
    static func record(_ id: Int, _ status: ConnectionStatus, dateAdd: Int64 = 1_000, disconnected: Int64? = nil)
        -> AgentRecord
    {
        AgentRecord(
            id: id, name: "agent-\(id)", ip: nil, status: status, lastKeepalive: nil, dateAdd: dateAdd,
            disconnectionTime: disconnected, statusCode: nil, nodeName: nil)
    }

    static func key(_ record: AgentRecord) -> AgentKey {
        AgentKey(
            id: Int32(record.id), status: AgentSnapshot.rawStatus(record.status), dateAdd: record.dateAdd,
            disconnectionTime: record.disconnectionTime)
    }

    static let previous: [AgentRecord] = [
        record(1, .active), record(2, .active), record(3, .disconnected, disconnected: 500), record(5, .active),
        record(6, .pending),
    ]

    static func plan(_ current: [AgentRecord], previous: [AgentRecord] = previous) -> IncrementalReadPlan {
        var plan = IncrementalReadPlan(previous: AgentSnapshot(records: previous))
        for record in current {
            guard plan.add(key(record)) else { break }
        }
        return plan
    }

    @Test func nothingMovedCopiesEverythingInOneRun() {
        var plan = Self.plan(Self.previous)
        #expect(plan.finish() == [.copy(0..<5)])
        #expect(plan.moved == 0)
        #expect(plan.rows == 5)
    }

    @Test func aStatusChangeSplitsTheRunAndFetchesThatAgent() {
        var current = Self.previous
        current[2] = Self.record(3, .active)
        var plan = Self.plan(current)
        #expect(plan.finish() == [.copy(0..<2), .fetch(3), .copy(3..<5)])
        #expect(plan.moved == 1)
    }

    @Test func reRegistrationAndANewDisconnectionTimeAreMoves() {
        var current = Self.previous
        current[0] = Self.record(1, .active, dateAdd: 2_000)
        current[2] = Self.record(3, .disconnected, disconnected: 900)
        var plan = Self.plan(current)
        #expect(plan.finish() == [.fetch(1), .copy(1..<2), .fetch(3), .copy(3..<5)])
    }

    @Test func aDisconnectionTimeAppearingOrVanishingIsAMove() {
        var current = Self.previous
        current[1] = Self.record(2, .active, disconnected: 700)
        current[2] = Self.record(3, .disconnected)
        var plan = Self.plan(current)
        #expect(plan.finish() == [.copy(0..<1), .fetch(2), .fetch(3), .copy(3..<5)])
    }

    @Test func registeredAgentsAreFetchedAndRemovedOnesSkipped() {
        let current = [
            Self.previous[0], Self.record(4, .neverConnected), Self.previous[3], Self.previous[4],
            Self.record(9, .pending),
        ]
        var plan = Self.plan(current)
        // Agents 2 and 3 are gone: the copies jump over them.
        #expect(plan.finish() == [.copy(0..<1), .fetch(4), .copy(3..<5), .fetch(9)])
        #expect(plan.moved == 2)
    }

    @Test func anEmptyPreviousSnapshotFetchesEveryAgent() {
        var plan = Self.plan(Self.previous, previous: [])
        #expect(plan.finish() == [.fetch(1), .fetch(2), .fetch(3), .fetch(5), .fetch(6)])
    }

    @Test func givesUpWhenMoreAgentsMovedThanTheLimit() {
        let previous = (1...320).map { Self.record($0, .active) }
        var plan = IncrementalReadPlan(previous: AgentSnapshot(records: previous))
        // 64 + 320 / 32 = 74 moves are allowed; the 75th ends the plan.
        #expect(plan.movedLimit == 74)
        var accepted = 0
        for record in previous.map({ Self.record($0.id, .disconnected) }) {
            guard plan.add(Self.key(record)) else { break }
            accepted += 1
        }
        #expect(accepted == 74)
        #expect(plan.gaveUp)
        #expect(plan.finish() == nil)
    }
}
