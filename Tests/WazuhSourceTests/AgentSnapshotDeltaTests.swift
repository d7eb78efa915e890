import Foundation
import Testing
import WazuhSimulator
import WazuhSource

struct AgentSnapshotDeltaTests {
    static func fleet(_ count: Int, seed: UInt64) -> [AgentRecord] {
        var random = SimulatorRandom(seed: seed)
        let statuses: [ConnectionStatus] = [.active, .disconnected, .pending, .neverConnected]
        return (1...count).map { id in
            AgentRecord(
                id: id * 2, name: "agent-\(id)", ip: id % 5 == 0 ? nil : "10.0.\(id / 250).\(id % 250)",
                status: statuses[Int.random(in: 0..<4, using: &random)], lastKeepalive: 1_700_000_000 + Int64(id),
                dateAdd: 1_600_000_000 + Int64(id), disconnectionTime: id % 3 == 0 ? 1_700_000_500 : 0,
                statusCode: id % 7, nodeName: id % 4 == 0 ? nil : "node-\(id % 3)",
                groups: id % 6 == 0 ? nil : "default,site-\(id % 2)")
        }
    }

    @Test func applyingTheDeltaRestoresEveryFieldButKeepaliveOnlyMoves() throws {
        let before = Self.fleet(300, seed: 3)
        var after = before
        after[0].status = before[0].status == .active ? .pending : .active  // status change
        after[1].lastKeepalive = 1_800_000_000  // keepalive only: not in the delta
        after[2].name = "renamed-\u{e9}"  // rename
        after[3].nodeName = "node-new"  // a node the base never had
        after[4].groups = "site-z"
        after[5].dateAdd += 1  // re-registration
        after[6].ip = nil
        after.remove(at: 10)  // removal
        after.remove(at: 20)
        after.append(
            AgentRecord(
                id: 10_001, name: "new", ip: "1.2.3.4", status: .neverConnected, lastKeepalive: nil,
                dateAdd: 1_750_000_000, disconnectionTime: nil, statusCode: nil, nodeName: nil))
        after.insert(
            AgentRecord(
                id: 3, name: "between", ip: nil, status: .active, lastKeepalive: 5, dateAdd: 6,
                disconnectionTime: 0, statusCode: 0, nodeName: "node-1", groups: "default"),
            at: 1)
        let base = AgentSnapshot(records: before)
        var current = AgentSnapshot(records: after)
        current.origin = SnapshotOrigin(source: .file, fileChangeCounter: 9, readAt: Date(timeIntervalSince1970: 12))
        let delta = try #require(current.delta(since: base, limit: 100))
        #expect(delta.removed == [before[10].id, before[21].id])
        #expect(delta.changed.count == 8)
        let exported = base.export()
        let checksum = try #require(AgentSnapshot.exportChecksum(exported))
        let decoded = try AgentSnapshotDelta(encoded: delta.encoded(baseChecksum: checksum), baseChecksum: checksum)
        #expect(decoded == delta)
        let restored = try AgentSnapshot(exported: exported).applying(decoded)
        var expected = after
        expected[2].lastKeepalive = before[1].lastKeepalive  // after[2] is before[1], shifted by the insert
        #expect(restored.records == AgentSnapshot(records: expected).records)
        #expect(restored.origin == current.origin)
        #expect(restored.counts == AgentSnapshot(records: expected).counts)
    }

    @Test func anEmptyDeltaRestoresTheBaseAndATooLargeOneIsRefused() throws {
        let base = AgentSnapshot(records: Self.fleet(100, seed: 5))
        let delta = try #require(base.delta(since: base, limit: 0))
        #expect(delta.count == 0)
        #expect(base.applying(delta).records == base.records)
        #expect(AgentSnapshot().delta(since: base, limit: 99) == nil)
        #expect(try #require(AgentSnapshot().delta(since: base, limit: 100)).removed.count == 100)
        #expect(try #require(base.delta(since: AgentSnapshot(), limit: 100)).changed.records == base.records)
    }

    @Test func aDeltaForAnotherBaseOrDamagedIsRejectedWithATypedError() throws {
        let base = AgentSnapshot(records: Self.fleet(50, seed: 7))
        var moved = Self.fleet(50, seed: 7)
        moved[3].status = .pending
        let encoded = try #require(AgentSnapshot(records: moved).delta(since: base, limit: 10)).encoded(
            baseChecksum: 42)
        #expect(AgentSnapshotDelta.baseChecksum(ofEncoded: encoded) == 42)
        #expect(throws: WazuhSourceError.self) { try AgentSnapshotDelta(encoded: encoded, baseChecksum: 43) }
        for index in [0, 8, 20, encoded.count / 2, encoded.count - 1] {
            var damaged = encoded
            damaged[index] ^= 0x40
            #expect(throws: WazuhSourceError.self) { try AgentSnapshotDelta(encoded: damaged, baseChecksum: 42) }
        }
        #expect(throws: WazuhSourceError.self) {
            try AgentSnapshotDelta(encoded: Array(encoded.prefix(20)), baseChecksum: 42)
        }
        #expect(AgentSnapshotDelta.baseChecksum(ofEncoded: [1, 2, 3]) == nil)
    }
}
