import Foundation
import Testing
import Timekeeping
import WazuhSimulator
import WazuhSource

/// Incremental reads (only id, status, registration and disconnection times for every agent; the
/// other fields only for agents that moved) must find exactly the changes a full read finds.
struct IncrementalReadTests {
    /// One reader of each kind over the same file, each diffing against its own previous read.
    final class Pair {
        let incremental: GlobalDatabaseReader
        let full: GlobalDatabaseReader
        var incrementalSnapshot: AgentSnapshot
        var fullSnapshot: AgentSnapshot
        var incrementalReads = 0
        var fullFallbacks = 0

        init(path: String) throws {
            incremental = GlobalDatabaseReader(configuration: .init(path: path, fullReadInterval: .seconds(3600)))
            full = GlobalDatabaseReader(configuration: .init(path: path, incrementalReads: false))
            incrementalSnapshot = try incremental.read().snapshot
            fullSnapshot = try full.read().snapshot
        }

        /// Reads with both, checks both found the same changes and the same decisive fields.
        func compare(_ round: Int) throws {
            let fast = try incremental.read()
            let slow = try full.read()
            #expect(slow.fullRead)
            if fast.fullRead { fullFallbacks += 1 } else { incrementalReads += 1 }
            let fastChanges = ChangeDetector.changes(from: incrementalSnapshot, to: fast.snapshot)
            let slowChanges = ChangeDetector.changes(from: fullSnapshot, to: slow.snapshot)
            incrementalSnapshot = fast.snapshot
            fullSnapshot = slow.snapshot
            #expect(fastChanges.count == slowChanges.count, "round \(round)")
            for (a, b) in zip(fastChanges, slowChanges) {
                #expect(a.kind == b.kind && a.agentID == b.agentID, "round \(round): \(a) vs \(b)")
                #expect(a.agentName == b.agentName && a.ipAddress == b.ipAddress && a.nodeName == b.nodeName)
                #expect(a.previousStatus == b.previousStatus && a.currentStatus == b.currentStatus)
                #expect(a.dateAdd == b.dateAdd)
                if a.kind != .removed {
                    // What moved was read afresh: every field, hence the event's time, agrees.
                    #expect(a.reason == b.reason && a.statusCode == b.statusCode, "round \(round): \(a) vs \(b)")
                    #expect(a.lastKeepalive == b.lastKeepalive && a.transitionTime == b.transitionTime)
                }
            }
            #expect(fast.snapshot.count == slow.snapshot.count)
            #expect(fast.snapshot.counts == slow.snapshot.counts)
            for (a, b) in zip(fast.snapshot.records, slow.snapshot.records) {
                #expect(a.id == b.id && a.status == b.status && a.dateAdd == b.dateAdd)
                #expect(a.disconnectionTime == b.disconnectionTime && a.name == b.name && a.ip == b.ip)
                #expect(a.nodeName == b.nodeName)
            }
        }
    }

    @Test func incrementalReadsFindWhatFullReadsFindOverARandomHistory() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: path, agentCount: 300, seed: 42, commitIdle: .seconds(3600),
                commitMaxAge: .seconds(3600), clusterNodes: ["master", "worker-1", "worker-2"]),
            now: baseTime)
        let pair = try Pair(path: path)
        var random = SystemRandomNumberGenerator()
        for round in 0..<80 {
            simulator.now = baseTime + 10 * Int64(round + 1)
            let ids = simulator.agentIDs
            for _ in 0..<Int.random(in: 0...12, using: &random) {
                guard let id = ids.randomElement(using: &random) else { break }
                let actions: [SimulatorAction] = [
                    .stop(agentID: id), .keepaliveTimeout(agentID: id), .connect(agentID: id),
                    .activate(agentID: id), .keepalive(agentID: id), .keepaliveAll, .register,
                    .registerNamed("n.\(round)*>'\"\t"), .remove(agentID: id), .reRegister(agentID: id),
                    .setStatusCode(agentID: id, code: Int.random(in: 0...5, using: &random)),
                ]
                try simulator.apply(actions.randomElement(using: &random)!)
            }
            if round % 10 == 4, let id = simulator.agents(withStatus: "active").first {
                // Disconnected again within one commit: only disconnection_time tells.
                try simulator.apply(.stop(agentID: id))
                try simulator.commit()
                try pair.compare(round)
                simulator.now += 5
                for action in [SimulatorAction.connect(agentID: id), .activate(agentID: id), .stop(agentID: id)] {
                    try simulator.apply(action)
                }
            }
            if round == 40 { try simulator.apply(.restartStorm) }
            try simulator.commit()
            try pair.compare(round)
        }
        #expect(pair.incrementalReads > 60)
        #expect(pair.fullFallbacks >= 1)
        try simulator.close()
    }

    @Test func unmovedAgentsKeepTheirFieldsUntilTheNextFullRead() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 40, initiallyActive: 1)
        let clock = ManualClock()
        let reader = GlobalDatabaseReader(
            configuration: .init(path: path, fullReadInterval: .seconds(60)), clock: clock)
        let first = try reader.read()
        #expect(first.fullRead)
        #expect(first.agentsFetched == 40)
        let keepalive = try #require(first.snapshot.record(id: 2)?.lastKeepalive)

        simulator.now = keepalive + 20
        try simulator.apply(.keepaliveAll)
        try simulator.apply(.stop(agentID: 1))
        try simulator.commit()
        let second = try reader.read()
        #expect(!second.fullRead)
        #expect(second.agentsFetched == 1)
        #expect(second.snapshot.record(id: 1)?.status == .disconnected)
        #expect(second.snapshot.record(id: 1)?.statusCode == 3)
        #expect(second.snapshot.record(id: 2)?.lastKeepalive == keepalive)

        clock.advance(by: .seconds(59))
        #expect(try !reader.read().fullRead)
        clock.advance(by: .seconds(1))
        let third = try reader.read()
        #expect(third.fullRead)
        #expect(third.snapshot.record(id: 2)?.lastKeepalive == keepalive + 20)
        #expect(try third.snapshot == GlobalDatabaseReader(configuration: .init(path: path)).read().snapshot)
        try simulator.close()
    }

    @Test func aFleetWideStormFallsBackToFullReads() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 500, initiallyActive: 1)
        let reader = GlobalDatabaseReader(path: path)
        #expect(try reader.read().fullRead)
        simulator.now = baseTime + 60
        try simulator.apply(.restartStorm)
        try simulator.commit()
        let storm = try reader.read()
        #expect(storm.fullRead)
        #expect(storm.snapshot.counts.disconnected == 500)
        // Right after a storm the fleet keeps moving: the next read goes straight to a full read.
        simulator.now += 5
        try simulator.apply(.connect(agentID: 7))
        try simulator.commit()
        let next = try reader.read()
        #expect(next.fullRead)
        try simulator.apply(.activate(agentID: 7))
        try simulator.commit()
        let quiet = try reader.read()
        #expect(!quiet.fullRead)
        #expect(quiet.agentsFetched == 1)
        #expect(quiet.snapshot.record(id: 7)?.status == .active)
        try simulator.close()
    }

    @Test func aReplacedFileIsReadInFull() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 30, seed: 1).close()
        let reader = GlobalDatabaseReader(path: path)
        _ = try reader.read()
        let replacement = directory.file("restored.db")
        try WazuhSimulator.fixture(replacement, agents: 30, seed: 2).close()
        _ = rename(replacement, path)
        let read = try reader.read()
        #expect(read.opened && read.fullRead)
        #expect(try read.snapshot == GlobalDatabaseReader(configuration: .init(path: path)).read().snapshot)
    }
}
