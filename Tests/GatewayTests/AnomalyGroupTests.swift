import Foundation
import Logging
import Outbox
import Testing
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// Mass disconnection per agent group against a simulated manager whose agents belong to `default` and
/// their site (global.db's `group` column and `belongs` rows): a site dropping off is raised once, across
/// restarts in the middle of the window, with its group on the wire.
@Suite(.serialized)
struct AnomalyGroupTests {
    let logger = Logger(label: "anomaly-group-test", factory: { _ in SwiftLogNoOpLogHandler() })
    let key = try! SigningKey(bytes: Array(repeating: 9, count: 32))

    /// 200 agents on two cluster nodes, all active, read the way the detection cycle reads them.
    final class Manager {
        let directory = NSTemporaryDirectory() + "/anomaly-group-\(UUID().uuidString)"
        let simulator: WazuhSimulator
        let reader: GlobalDatabaseReader
        var snapshot: AgentSnapshot

        init() throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            simulator = try WazuhSimulator(
                configuration: .init(
                    databasePath: directory + "/global.db", agentCount: 200, seed: 3,
                    clusterNodes: ["node01", "node02"],
                    initiallyActive: 1.0),
                now: 1_716_897_000)
            reader = GlobalDatabaseReader(configuration: .init(path: directory + "/global.db", incrementalReads: false))
            snapshot = try reader.read().snapshot
        }

        deinit {
            try? simulator.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func journal() throws -> AnomalyJournal {
        AnomalyJournal(
            encoder: AnomalyEncoder(
                subjects: try Subjects(prefix: "test"), signingKey: key, managerNode: "mgr", windowSeconds: 600),
            thresholds: AnomalyThresholds(), logger: logger, clockMilliseconds: { 1_716_897_000_000 })
    }

    /// Commits what the simulator wrote, reads global.db and journals the changes as one detection cycle.
    func cycle(_ manager: Manager, _ journal: AnomalyJournal, _ store: OutboxStore) throws {
        try manager.simulator.commit()
        let next = try manager.reader.read().snapshot
        let changes = ChangeDetector.changes(from: manager.snapshot, to: next)
        manager.snapshot = next
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "mgr"), subjects: try Subjects(prefix: "test"), signingKey: key)
        let rows = encoder.messages(for: changes, counts: next.counts, detectedAtMilliseconds: 1_716_897_000_000)
        try journal.journalCycle(changes, rows: rows, snapshot: next, detectedAtMilliseconds: 1_716_897_000_000) {
            journaled, meta in
            try store.appendDetection(messages: journaled, snapshot: next.export(), meta: meta)
        }
    }

    func anomalies(_ store: OutboxStore) throws -> [AnomalyEvent] {
        try store.messages(matching: OutboxQuery(limit: 100_000)).filter { $0.subject == "test.security.anomaly" }
            .map { row in try AnomalyEvent(jsonObject: try #require(try JSONParser().parse(row.payload).objectValue)) }
    }

    /// Times out `ids`, one cycle per agent, `seconds` of database time apart.
    func timeOut(_ ids: some Sequence<Int>, _ manager: Manager, _ journal: AnomalyJournal, _ store: OutboxStore)
        throws
    {
        for id in ids {
            manager.simulator.now += 5
            try manager.simulator.apply(.keepaliveTimeout(agentID: id))
            try cycle(manager, journal, store)
        }
    }

    @Test func theSnapshotCarriesEachAgentsGroupsFromGlobalDB() throws {
        let manager = try Manager()
        let site = try #require(manager.simulator.droppedSite)
        let members = manager.simulator.agentIDs.filter {
            manager.simulator.groups(of: $0)?.split(separator: ",").contains(site) == true
        }
        for id in manager.simulator.agentIDs {
            #expect(manager.snapshot.groups(ofAgentID: id) == manager.simulator.groups(of: id))
            #expect(manager.snapshot.record(id: id)?.groups == manager.simulator.groups(of: id))
        }
        let sizes = manager.snapshot.agentsPerGroup
        #expect(sizes["default"] == 200 && sizes[String(site)] == members.count)
        #expect(sizes.count == 9)
        // Through the journaled form too (the snapshot the next start diffs against).
        let restored = try AgentSnapshot(exported: manager.snapshot.export())
        #expect(restored == manager.snapshot && restored.agentsPerGroup == sizes)
        // And through incremental reads, which copy the agents that did not move.
        let incremental = GlobalDatabaseReader(configuration: .init(path: manager.directory + "/global.db"))
        _ = try incremental.read()
        manager.simulator.now += 5
        try manager.simulator.apply(.keepaliveTimeout(agentID: members[0]))
        try manager.simulator.commit()
        let moved = try incremental.read()
        #expect(!moved.fullRead && moved.snapshot.agentsPerGroup == sizes)
        #expect(moved.snapshot.groups(ofAgentID: members[0]) == manager.simulator.groups(of: members[0]))
    }

    @Test func aSiteDropIsRaisedOnceAcrossRestartsInTheMiddleOfTheWindow() throws {
        let manager = try Manager()
        let site = String(try #require(manager.simulator.droppedSite))
        let members = manager.simulator.agents(withStatus: "active").filter {
            manager.simulator.groups(of: $0)?.split(separator: ",").contains(Substring(site)) == true
        }
        let size = try #require(manager.snapshot.agentsPerGroup[site])
        let threshold = AnomalyThresholds().groupDisconnectThreshold(groupSize: size)
        try #require(members.count > threshold + 2)
        let path = manager.directory + "/outbox.db"

        // Below the threshold, then the gateway stops.
        do {
            let store = try OutboxStore(path: path, synchronous: .normal)
            let first = try journal()
            first.restore(from: store)
            first.seed(with: manager.snapshot)
            try timeOut(members.prefix(threshold - 2), manager, first, store)
            #expect(try anomalies(store).isEmpty)
            try store.close()
        }
        // A new process counts on from the journaled window and crosses the threshold once.
        do {
            let store = try OutboxStore(path: path, synchronous: .normal)
            let second = try journal()
            second.restore(from: store)
            try timeOut(members[(threshold - 2)..<(threshold + 2)], manager, second, store)
            let raised = try anomalies(store)
            #expect(raised.count == 1)
            let event = try #require(raised.first)
            #expect(event.kind == .massDisconnection && event.group == site && event.nodeName == nil)
            #expect(event.observed == Int64(threshold) && event.threshold == Int64(threshold))
            #expect(event.fleetSize == Int64(size))
            #expect(event.explanation.contains("group \(site)"))
            #expect(key.verify(event.jsonObject) && event.jsonObject["agent_group"] == .string(site))
            try store.close()
        }
        // Restarted again within the same window: the rest of the site going down raises nothing more.
        let store = try OutboxStore(path: path, synchronous: .normal)
        defer { try? store.close() }
        let third = try journal()
        third.restore(from: store)
        try timeOut(members[(threshold + 2)...], manager, third, store)
        #expect(try anomalies(store).count == 1)
        // Per-node findings stay quiet: the site is a small share of each node.
        #expect(try anomalies(store).allSatisfy { $0.group != nil })
    }
}
