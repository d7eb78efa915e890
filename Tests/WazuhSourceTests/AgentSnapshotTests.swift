import Foundation
import Testing
import WazuhSimulator
import WazuhSource

struct AgentSnapshotTests {
    static func sampleRecords() -> [AgentRecord] {
        [
            AgentRecord(
                id: 1, name: "web-prod-1", ip: "10.0.0.1", status: .active, lastKeepalive: 1_700_000_000,
                dateAdd: 1_600_000_000, disconnectionTime: 0, statusCode: 0, nodeName: "master",
                groups: "default,site-a"),
            AgentRecord(
                id: 7, name: "a.*.>\"'\u{1}", ip: nil, status: .disconnected, lastKeepalive: 1_700_000_100,
                dateAdd: 1_600_000_001, disconnectionTime: 1_700_000_200, statusCode: 4, nodeName: "worker-1",
                groups: "site-a"),
            AgentRecord(
                id: 900, name: String(repeating: "x", count: 10_000), ip: "any", status: .neverConnected,
                lastKeepalive: nil, dateAdd: 1_600_000_002, disconnectionTime: nil, statusCode: nil, nodeName: nil),
            AgentRecord(
                id: 1_000_000, name: "", ip: "192.168.1.0/24", status: .pending, lastKeepalive: -5, dateAdd: 0,
                disconnectionTime: 0, statusCode: 2, nodeName: "master"),
        ]
    }

    @Test func exportImportRoundTripsExactly() throws {
        let snapshot = AgentSnapshot(records: Self.sampleRecords())
        let restored = try AgentSnapshot(exported: snapshot.export())
        #expect(restored == snapshot)
        #expect(restored.records == Self.sampleRecords())
        #expect(restored.counts == FleetCounts(total: 4, active: 1, disconnected: 1, pending: 1, neverConnected: 1))
        #expect(try AgentSnapshot(exported: AgentSnapshot().export()) == AgentSnapshot())
    }

    @Test func rejectsGarbageTruncationAndBitFlipsWithATypedError() throws {
        let exported = AgentSnapshot(records: Self.sampleRecords()).export()
        var random = SimulatorRandom(seed: 11)
        var candidates: [[UInt8]] = [
            [], Array("WZSNAP".utf8), Array(exported.dropLast()), Array(exported.prefix(exported.count / 2)),
            (0..<600).map { _ in UInt8.random(in: 0...255, using: &random) },
        ]
        for _ in 0..<200 {
            var flipped = exported
            let index = Int.random(in: 0..<flipped.count, using: &random)
            flipped[index] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
            candidates.append(flipped)
        }
        for candidate in candidates {
            #expect(throws: WazuhSourceError.self) { try AgentSnapshot(exported: candidate) }
        }
    }

    @Test func looksUpRecordsByIDAndKeepsIDsAscending() {
        let snapshot = AgentSnapshot(records: Self.sampleRecords().reversed())
        #expect(snapshot.agentIDs == [1, 7, 900, 1_000_000])
        #expect(snapshot.record(id: 7)?.nodeName == "worker-1")
        #expect(snapshot.record(id: 8) == nil)
        #expect(snapshot.record(id: 1_000_000)?.ip == "192.168.1.0/24")
    }

    @Test func staysUnder150BytesPerAgentAt10kAgents() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 10_000).close()
        let snapshot = try GlobalDatabaseReader(path: path).read().snapshot
        let perAgent = Double(snapshot.approximateByteCount) / Double(snapshot.count)
        print("snapshot bytes per agent at 10k: \(perAgent)")
        #expect(snapshot.count == 10_000)
        #expect(perAgent < 150)
        #expect(try AgentSnapshot(exported: snapshot.export()) == snapshot)
    }
}

struct ClientKeysFileTests {
    @Test func parsesEntriesSkipsCommentsAndRecognisesRemovedAgents() throws {
        let key = String(repeating: "ab", count: 32)
        let text = """
            # a comment
             indented comment
            001 web-1 any \(key)
            002 !gone 10.0.0.2 \(key)
            003 #old any \(key)
            not-a-number x any \(key)
            1234 big 10.1.0.0/16 \(key)\r

            """
        let file = ClientKeysFile(parsing: Array(text.utf8))
        #expect(
            file.entries == [
                .init(id: 1, name: "web-1", ip: "any", isRemoved: false),
                .init(id: 2, name: "gone", ip: "10.0.0.2", isRemoved: true),
                .init(id: 3, name: "old", ip: "any", isRemoved: true),
                .init(id: 1234, name: "big", ip: "10.1.0.0/16", isRemoved: false),
            ])
        #expect(file.malformedLines == 1)
        #expect(!String(describing: file).contains(key))
    }

    @Test func readsTheFileFromDiskAndComparesWithTheDatabase() throws {
        let directory = try TemporaryDirectory()
        let keysPath = directory.file("client.keys")
        let key = String(repeating: "0f", count: 32)
        let lines = ["001 a any \(key)", "002 !b any \(key)", "004 d any \(key)"].joined(separator: "\n")
        Array(lines.utf8).withUnsafeBytes { bytes in
            let fd = open(keysPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            #expect(fd >= 0)
            _ = write(fd, bytes.baseAddress, bytes.count)
            close(fd)
        }
        let keys = try ClientKeysFile(path: keysPath)
        #expect(keys.entries.map(\.id) == [1, 2, 4])

        let records = (1...3).map {
            AgentRecord(
                id: $0, name: "n\($0)", ip: nil, status: .active, lastKeepalive: 1, dateAdd: 1, disconnectionTime: 0,
                statusCode: 0, nodeName: nil)
        }
        let comparison = ClientKeysComparison(keys: keys, snapshot: AgentSnapshot(records: records))
        #expect(comparison.removedButInDatabase == [2])
        #expect(comparison.registeredButNotInDatabase == [4])
        #expect(comparison.inDatabaseButNotInKeys == [3])
        #expect(!comparison.isConsistent)

        #expect(throws: WazuhSourceError.self) { try ClientKeysFile(path: directory.file("missing.keys")) }
    }
}
