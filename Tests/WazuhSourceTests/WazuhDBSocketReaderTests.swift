import Foundation
import Testing
import WazuhSimulator
import WazuhSource

#if canImport(Glibc)
    import Glibc
#endif

/// The socket reader against the simulator's wazuh-db socket and against a misbehaving stand-in.
@Suite struct WazuhDBSocketReaderTests {
    static func reader(_ path: String, timeout: Duration = .seconds(5)) -> WazuhDBSocketReader {
        WazuhDBSocketReader(client: WazuhDBClient(path: path, timeout: timeout))
    }

    @Test func readsTheSameSnapshotAsTheFileAfterACommit() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 40)
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        try simulator.apply(.stop(agentID: 3))
        try simulator.apply(.registerNamed("odd \"name\" \\ with\ttab"))
        try simulator.apply(.remove(agentID: 5))
        try simulator.commit()
        let fromSocket = try Self.reader(directory.file("wdb")).read().snapshot
        let fromFile = try GlobalDatabaseReader(path: directory.file("global.db")).read().snapshot
        #expect(fromSocket.count == 40)
        #expect(fromSocket.records == fromFile.records)
        #expect(ChangeDetector.changes(from: fromFile, to: fromSocket).isEmpty)
    }

    @Test func seesAnUncommittedChangeTheFileDoesNotHaveYetWithTheSameTransition() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 20, initiallyActive: 1)
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        let file = GlobalDatabaseReader(path: directory.file("global.db"))
        let socket = Self.reader(directory.file("wdb"))
        let before = try file.read().snapshot
        simulator.now = baseTime + 30
        try simulator.apply(.stop(agentID: 7))
        #expect(simulator.hasOpenTransaction)
        let live = try socket.read().snapshot
        let stale = try file.read().snapshot
        #expect(live.record(id: 7)?.status == .disconnected)
        #expect(stale.record(id: 7)?.status == .active)
        let seenLive = ChangeDetector.changes(from: before, to: live)
        try simulator.commit()
        let committed = try file.read().snapshot
        #expect(ChangeDetector.changes(from: before, to: committed) == seenLive)
        #expect(seenLive.count == 1 && seenLive.first?.transitionTime == baseTime + 30)
        // Seen live first, the commit brings nothing new.
        #expect(ChangeDetector.changes(from: live, to: committed).isEmpty)
    }

    @Test func pagesUnderThe64KiBLimitWhenRepliesAreCut() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 10)
        for index in 0..<600 {
            // 600 agents with ~700-byte names: 256 rows are ~200 KiB, so the first pages come back cut.
            try simulator.apply(.registerNamed("host-\(index)-" + String(repeating: "x", count: 700)))
        }
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        let reader = Self.reader(directory.file("wdb"))
        let read = try reader.read()
        #expect(read.snapshot.count == 610)
        #expect(read.queries > 610 * 720 / WazuhDBFrame.maximumPayload)
        try simulator.commit()
        #expect(
            read.snapshot.records
                == (try GlobalDatabaseReader(path: directory.file("global.db")).read().snapshot.records))
        // The adapted page size sticks: a second read needs no cut replies.
        let again = try reader.read()
        #expect(again.snapshot == read.snapshot)
        #expect(again.bytesReceived < read.bytesReceived)
    }

    @Test func followsDueContinuationsOfIDListings() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 8000, initiallyActive: 0.5)
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        let reader = Self.reader(directory.file("wdb"))
        let requestsBefore = server.requests
        let ids = try reader.allAgentIDs()
        #expect(ids == simulator.agentIDs)
        #expect(server.requests - requestsBefore >= 2)  // 8000 ids do not fit one 64 KiB reply
        #expect(try reader.agentIDs(status: .active) == simulator.agents(withStatus: "active"))
        #expect(try reader.agentIDs(status: .disconnected) == simulator.agents(withStatus: "disconnected"))
    }

    @Test func theSimulatorRefusesWritingCommands() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 3)
        let server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        let answers = Self.rawExchange(
            directory.file("wdb"),
            [
                "global sql UPDATE agent SET connection_status = 'disconnected'", "global update-keepalive {\"id\":1}",
                "global disconnect-agents 0 100 syncreq", "global sql DELETE FROM agent", "agent 001 sql SELECT 1",
            ])
        #expect(answers.count == 5)
        #expect(answers.allSatisfy { $0.hasPrefix("err ") }, "\(answers)")
        #expect(
            simulator.agents(withStatus: "disconnected").count
                == (try Self.reader(directory.file("wdb")).agentIDs(status: .disconnected)).count)
    }

    /// Sends raw commands on one connection and returns the reply texts (for commands the builder cannot make).
    static func rawExchange(_ path: String, _ commands: [String]) -> [String] {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        let connected = withUnixSocketAddress(path) { connect(descriptor, $0, $1) }
        guard connected == 0 else { return [] }
        var decoder = WazuhDBFrame.Decoder()
        var replies: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for command in commands {
            let frame = ScriptedWazuhDB.frame(command)
            _ = frame.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
            while true {
                if let payload = try? decoder.next() {
                    replies.append(String(decoding: payload, as: UTF8.self))
                    break
                }
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return replies }
                decoder.feed(buffer[0..<count])
            }
        }
        return replies
    }
}
