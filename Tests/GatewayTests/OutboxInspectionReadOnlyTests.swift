import Foundation
import Outbox
import Testing

@testable import Gateway
@testable import GatewayCommands

/// `outbox stats` and `outbox list` open the journal read-only: they never create, migrate, move aside or
/// write it, and say plainly why they cannot read it.
struct OutboxInspectionReadOnlyTests {
    /// A journal of four messages whose b-tree pages (everything after the header page) are overwritten.
    private func corrupted() throws -> (CommandFixture, GatewayConfiguration, Data) {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        try fixture.journal(agents: [1, 2, 3, 4])
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: fixture.outboxPath))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try handle.close()
        return (fixture, configuration, try #require(FileManager.default.contents(atPath: fixture.outboxPath)))
    }

    private func failure(_ body: () throws(OperatorCommandError) -> [String]) -> OperatorCommandError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error
        }
    }

    /// The directory's entries other than the SQLite companions a WAL read may leave (`-wal`, `-shm`).
    private func entries(_ fixture: CommandFixture) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixture.directory)
            .filter { !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.sorted()
    }

    @Test func statsAndListLeaveACorruptOutboxUntouchedAndInPlace() async throws {
        let (fixture, configuration, damaged) = try self.corrupted()
        let before = try self.entries(fixture)

        for error in [
            self.failure { () throws(OperatorCommandError) in try OutboxInspection.statsLines(configuration) },
            self.failure { () throws(OperatorCommandError) in
                try OutboxInspection.listLines(configuration, options: .init())
            },
        ] {
            let error = try #require(error)
            #expect(error.code == .outboxUnavailable)
            #expect(error.message.contains(fixture.outboxPath) && error.message.contains("is corrupt"))
        }
        let (status, output) = try await BuiltExecutable.run(
            ["outbox", "stats", "--config", fixture.configPath], timeout: .seconds(15))
        #expect(status == 1)
        #expect(output.contains("outbox stats: outbox \(fixture.outboxPath) is corrupt"), "output: \(output)")

        #expect(FileManager.default.contents(atPath: fixture.outboxPath) == damaged)
        #expect(try self.entries(fixture) == before)
        #expect(!before.contains { $0.contains("corrupt") })
    }

    @Test func aGarbageFileIsNotADatabaseAndStaysAsItWas() async throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        let garbage = Data("this is a text file, not a journal\n".utf8)
        try garbage.write(to: URL(fileURLWithPath: fixture.outboxPath))

        let error = try #require(
            self.failure { () throws(OperatorCommandError) in
                try OutboxInspection.listLines(configuration, options: .init())
            })
        #expect(error.message.contains(fixture.outboxPath) && error.message.contains("is not an SQLite database"))
        let (status, output) = try await BuiltExecutable.run(
            ["outbox", "list", "--config", fixture.configPath], timeout: .seconds(15))
        #expect(status == 1)
        #expect(output.contains("outbox list: outbox \(fixture.outboxPath) is not an SQLite database"))
        #expect(FileManager.default.contents(atPath: fixture.outboxPath) == garbage)
        #expect(try self.entries(fixture) == ["encryption.key", "gateway.yaml", "outbox.db", "signing.key"])
    }

    @Test func aMissingOutboxSaysTheGatewayHasNotRunOrThePathIsWrong() async throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        let error = try #require(
            self.failure { () throws(OperatorCommandError) in try OutboxInspection.statsLines(configuration) })
        #expect(error.message.contains(fixture.outboxPath))
        #expect(error.message.contains("has not run yet") && error.message.contains("outbox.path"))
        let (status, output) = try await BuiltExecutable.run(
            ["outbox", "list", "--config", fixture.configPath], timeout: .seconds(15))
        #expect(status == 1)
        #expect(output.contains("does not exist"))
        #expect(!FileManager.default.fileExists(atPath: fixture.outboxPath))
    }

    @Test func aJournalOpenInALiveStoreIsReadable() async throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        try fixture.journal(agents: [1, 2, 3])
        // The "daemon": a store that stays open and keeps journaling in WAL mode.
        let store = try fixture.openOutbox()
        defer { try? store.close() }
        try store.markDelivered([(seq: 1, streamSequence: 1)], at: fixture.now)

        let lines = try OutboxInspection.statsLines(configuration, now: fixture.now)
        #expect(lines.contains("pending: 2") && lines.contains("delivered: 1") && lines.contains("last_seq: 3"))
        let event = try fixture.event(agent: 9, serial: 99)
        try store.appendDetection(
            messages: [
                NewOutboxMessage(
                    messageID: event.eventID, eventID: event.eventID, kind: .event, subject: "wazuh.agent.009.status",
                    agentID: "009", payload: event.canonicalJSON())
            ], snapshot: [9])
        let pending = try OutboxInspection.listLines(configuration, options: .init(state: .pending))
        #expect(pending.count == 3 && pending.last?.contains("wazuh.agent.009.status") == true)

        let (status, output) = try await BuiltExecutable.run(
            ["outbox", "stats", "--config", fixture.configPath], timeout: .seconds(15))
        #expect(status == 0)
        #expect(output.contains("pending: 3\n") && output.contains("last_seq: 4\n"))
        // The store goes on writing after the inspection.
        try store.markDelivered([(seq: 2, streamSequence: 2)], at: fixture.now)
        #expect(try store.stats().delivered == 2)
    }

    // MARK: As another user (root runs the tests here; the checks need a user without root's rights)

    /// Root, `setpriv`, and a checkout `nobody` can reach: the executable is run once as that user
    /// (a checkout under a private home directory cannot be, and the tests are skipped there).
    private static let canRunAsNobody: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        probe.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltExecutable.path, "--help"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    /// Runs the executable as `nobody` (uid 65534) on a fixture that user can reach.
    private func runAsNobody(_ fixture: CommandFixture, _ arguments: [String]) async throws -> (Int32?, String) {
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fixture.directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fixture.configPath)
        return try await BuiltExecutable.run(
            ["--reuid=65534", "--regid=65534", "--clear-groups", BuiltExecutable.path] + arguments,
            timeout: .seconds(15), executable: "/usr/bin/setpriv")
    }

    @Test(.enabled(if: Self.canRunAsNobody)) func anUnreadableOutboxIsExplained() async throws {
        let fixture = try CommandFixture()
        try fixture.writeConfiguration()
        try fixture.journal(agents: [1])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: fixture.outboxPath)
        let (status, output) = try await self.runAsNobody(fixture, ["outbox", "stats", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("\(fixture.outboxPath) is not readable by this user (uid 65534)"), "\(output)")
    }

    @Test(.enabled(if: Self.canRunAsNobody)) func aReadOnlyDirectoryIsExplainedWhenTheGatewayIsStopped() async throws {
        let fixture = try CommandFixture()
        try fixture.writeConfiguration()
        try fixture.journal(agents: [1])
        let before = try FileManager.default.contentsOfDirectory(atPath: fixture.directory).sorted()
        #expect(!before.contains { $0.hasSuffix("-wal") || $0.hasSuffix("-shm") })
        let (status, output) = try await self.runAsNobody(fixture, ["outbox", "list", "--config", fixture.configPath])
        #expect(status == 1)
        #expect(output.contains("is a WAL database"), "\(output)")
        #expect(output.contains("\(fixture.directory) is not writable by this user (uid 65534)"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.directory).sorted() == before)
    }

    @Test(.enabled(if: Self.canRunAsNobody)) func aReadOnlyDirectoryIsReadableWhileTheGatewayRuns() async throws {
        let fixture = try CommandFixture()
        try fixture.writeConfiguration()
        try fixture.journal(agents: [1, 2])
        let store = try fixture.openOutbox()  // keeps the -wal and -shm files
        defer { try? store.close() }
        _ = try store.stats()
        let (status, output) = try await self.runAsNobody(fixture, ["outbox", "stats", "--config", fixture.configPath])
        #expect(status == 0, "\(output)")
        #expect(output.contains("pending: 2\n"))
    }
}
