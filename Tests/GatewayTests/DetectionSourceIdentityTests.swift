import Foundation
import Outbox
import Testing
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// A transition seen live through wazuh-db's socket and later through global.db is one event: the
/// same event id and batch id from both sources, journaled once.
@Suite struct DetectionSourceIdentityTests {
    @Test func theSameTransitionFromSocketAndFileHasOneEventIDAndIsJournaledOnce() throws {
        let temporary = try TemporaryDirectory(prefix: "source-identity")
        let directory = temporary.path
        let simulator = try WazuhSimulator(
            configuration: .init(databasePath: directory + "/global.db", agentCount: 30, initiallyActive: 1),
            now: 1_767_225_600)
        defer { try? simulator.close() }
        let server = try simulator.serveWazuhDB(at: directory + "/wdb")
        defer { server.stop() }
        let store = try OutboxStore(path: directory + "/outbox.db", synchronous: .normal)
        defer { try? store.close() }
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "mgr"), subjects: try Subjects(prefix: "wazuh"),
            signingKey: try SigningKey(bytes: Array(repeating: 5, count: 32)))
        let file = GlobalDatabaseReader(path: directory + "/global.db")
        let socket = WazuhDBSocketReader(client: WazuhDBClient(path: directory + "/wdb"))

        let baseline = try file.read().snapshot
        try store.recordBaseline(snapshot: baseline.export())
        simulator.now += 40
        try simulator.apply(.stop(agentID: 12))
        try simulator.apply(.keepaliveTimeout(agentID: 20))
        try simulator.apply(.register)

        // Seen live through the socket, journaled.
        let live = try socket.read().snapshot
        let liveChanges = ChangeDetector.changes(from: baseline, to: live)
        #expect(liveChanges.count == 3)
        let liveRows = encoder.messages(for: liveChanges, counts: live.counts, detectedAtMilliseconds: 1_000)
        #expect(try store.appendDetection(messages: liveRows, snapshot: live.export()) == liveRows.count)

        // Committed: the file shows the same transitions, detected later.
        try simulator.commit()
        let committed = try file.read().snapshot
        let fileChanges = ChangeDetector.changes(from: baseline, to: committed)
        let fileRows = encoder.messages(for: fileChanges, counts: committed.counts, detectedAtMilliseconds: 60_000)
        #expect(fileRows.map(\.messageID) == liveRows.map(\.messageID))
        #expect(fileRows.map(\.eventID) == liveRows.map(\.eventID))
        #expect(liveRows.filter { $0.kind == .event }.count == 3)
        // Were the file read journaled as well (another instance, a replay), the outbox keeps one copy.
        #expect(try store.appendDetection(messages: fileRows, snapshot: committed.export()) == 0)
        // And the daemon, which diffs against what it journaled, finds nothing new in the file.
        #expect(ChangeDetector.changes(from: live, to: committed).isEmpty)
    }
}
