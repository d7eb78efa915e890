import Foundation
import Testing
import WazuhSimulator
import WazuhSource

/// The simulator's ground-truth log records exactly what each COMMIT made visible.
@Suite struct GroundTruthLogTests {
    @Test func recordsTheInitialFleetThenOnlyCommittedNetTransitions() throws {
        let directory = try TemporaryDirectory()
        let logPath = directory.file("truth.jsonl")
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: directory.file("global.db"), agentCount: 10, initiallyActive: 1,
                groundTruthLogPath: logPath))
        let initial = try GroundTruthLog.read(path: logPath)
        #expect(initial.count == 10)
        #expect(initial.allSatisfy { $0.kind == .initial && $0.previous == "Unknown" && $0.commit == 1 })

        let ids = simulator.agentIDs
        // Written but not committed: nothing recorded yet.
        try simulator.apply(.stop(agentID: ids[0]))
        #expect(try GroundTruthLog.read(path: logPath).count == 10)
        // One long transaction: agent 1 goes down and comes back (no net change), agent 2 goes down.
        try simulator.apply(.connect(agentID: ids[0]))
        try simulator.apply(.activate(agentID: ids[0]))
        try simulator.apply(.keepaliveTimeout(agentID: ids[1]))
        try simulator.commit()
        let afterFirst = Array(try GroundTruthLog.read(path: logPath).dropFirst(10))
        #expect(afterFirst.count == 1)
        let down = try #require(afterFirst.first)
        #expect(down.kind == .statusChange && down.agentID == ids[1])
        #expect(down.previous == "Active" && down.current == "Disconnected")
        #expect(down.databaseTime == simulator.now && down.commit == 2)

        try simulator.apply(.remove(agentID: ids[2]))
        let registered = try #require(try simulator.apply(.register))
        try simulator.commit()
        let afterSecond = Array(try GroundTruthLog.read(path: logPath).dropFirst(11))
        #expect(afterSecond.map(\.kind) == [.removed, .registered])
        #expect(afterSecond.map(\.agentID) == [ids[2], registered])
        #expect(afterSecond[0].previous == "Active" && afterSecond[0].current == "Unknown")
        #expect(afterSecond[1].previous == "Unknown" && afterSecond[1].current == "NeverConnected")
        try simulator.close()
    }

    @Test func aTornLastLineIsIgnored() throws {
        let directory = try TemporaryDirectory()
        let logPath = directory.file("truth.jsonl")
        _ = try WazuhSimulator(
            configuration: .init(databasePath: directory.file("global.db"), agentCount: 3, groundTruthLogPath: logPath))
        let handle = try #require(FileHandle(forWritingAtPath: logPath))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"kind\":\"sta".utf8))
        try handle.close()
        #expect(try GroundTruthLog.read(path: logPath).count == 3)
    }
}
