import Foundation
import NATSTestSupport
import Testing
import WazuhSimulator
import WireContract

@testable import Gateway

#if canImport(Glibc)
    import Glibc
#endif

/// A manager read through wazuh-db's socket (`source: wazuh-db`, no fallback to its file) beside a
/// manager read from global.db: a broken socket never stops the other manager's events, /readyz names
/// only the broken manager, and once its socket answers its changes flow, uncommitted ones included.
struct MultiManagerSocketIsolationTests {
    typealias Fixture = MultiManagerDaemonTests

    /// How the socket manager's `queue/db/wdb` is broken.
    enum SocketBreakage: String, CaseIterable, Sendable {
        /// No socket file: wazuh-db is not running.
        case missing
        /// A socket file nobody listens on (left by a stopped wazuh-db): connecting is refused.
        case refusing
        /// Something answers, with frames that are not wazuh-db's replies.
        case garbage
    }

    @Test(arguments: SocketBreakage.allCases)
    func aBrokenSocketLeavesTheOtherManagerDeliveringAndIsNamedInReadyz(_ breakage: SocketBreakage) async throws {
        let socketDirectory = try TemporaryDirectory(prefix: "wdb-manager")
        let fileDirectory = try TemporaryDirectory(prefix: "file-manager")
        let socketPath = socketDirectory.file("wdb")
        // The socket manager never commits during the test: only its socket can show its changes.
        let socketSimulator = try WazuhSimulator(
            configuration: .init(
                databasePath: socketDirectory.file("global.db"), agentCount: 20, commitIdle: .seconds(3600),
                commitMaxAge: .seconds(3600)))
        let fileSimulator = try WazuhSimulator(
            configuration: .init(
                databasePath: fileDirectory.file("global.db"), agentCount: 20, commitIdle: .milliseconds(50),
                commitMaxAge: .milliseconds(200)))
        var server: WazuhDBSocketServer?
        var stale: Int32 = -1
        switch breakage {
        case .missing:
            break
        case .refusing:
            stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            _ = withUnixSocketAddress(socketPath) { bind(stale, $0, $1) }
        case .garbage:
            server = try socketSimulator.serveWazuhDB(at: socketPath)
            server?.garbleReplies(true)
        }
        var socketEntry = GatewayConfiguration.Wazuh(managerNode: "socket")
        socketEntry.explicitDBPath = socketDirectory.file("global.db")
        socketEntry.explicitSocketPath = socketPath
        socketEntry.source = .wazuhDB
        socketEntry.pollInterval = .milliseconds(200)
        socketEntry.socketPollInterval = .milliseconds(200)
        let harness = try MultiManagerAPITests.harness([
            MultiManagerAPITests.fileEntry("file", path: fileDirectory.file("global.db")), socketEntry,
        ])
        try await harness.server.start()
        let daemon = harness.startDaemon()
        func cleanUp() async {
            await harness.server.stop()
            server?.stop()
            if stale >= 0 { close(stale) }
            try? socketSimulator.close()
            try? fileSimulator.close()
        }
        do {
            try await Fixture.waitForBaselines(daemon, managers: ["file"])
            _ = try MultiManagerAPITests.stopOneAgent(fileSimulator)
            try await eventually("the file manager's event in the stream", timeout: .seconds(30)) {
                Fixture.statusEvents(try await harness.storedMessages())["file"]?.count == 1
            }
            let reply = try await daemon.get("/readyz")
            #expect(reply.status == 503)
            #expect(reply.body.contains("source[socket]: no successful read yet"), "\(reply.body)")
            #expect(reply.body.contains(socketPath), "the reason names the socket: \(reply.body)")
            #expect(!reply.body.contains("source[file]"))

            // Repaired: wazuh-db answers; the manager baselines and its uncommitted change flows.
            switch breakage {
            case .missing:
                server = try socketSimulator.serveWazuhDB(at: socketPath)
            case .refusing:
                close(stale)
                stale = -1
                server = try socketSimulator.serveWazuhDB(at: socketPath)
            case .garbage:
                server?.garbleReplies(false)
            }
            try await Fixture.waitForBaselines(daemon, managers: ["socket"])
            let agent = try #require(socketSimulator.agents(withStatus: "active").first)
            try socketSimulator.apply(.stop(agentID: agent))
            try await eventually("the repaired manager's event", timeout: .seconds(30)) {
                let events = Fixture.statusEvents(try await harness.storedMessages())["socket"] ?? []
                return events.contains {
                    $0.event?.agentID == Subjects.agentToken(agent) && $0.event?.currentStatus == "Disconnected"
                }
            }
            #expect(socketSimulator.hasOpenTransaction, "seen through the socket, not the file")
            try await eventually("ready with both managers", timeout: .seconds(20)) {
                try await daemon.get("/readyz").status == 200
            }
            #expect(Fixture.statusEvents(try await harness.storedMessages())["file"]?.count == 1)
        } catch {
            _ = try? await daemon.shutdown()
            await cleanUp()
            throw error
        }
        try await daemon.shutdown()
        await cleanUp()
    }
}
