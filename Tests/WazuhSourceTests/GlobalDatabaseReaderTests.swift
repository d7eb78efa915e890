import Foundation
import GRDB
import Synchronization
import Testing
import WazuhSimulator
import WazuhSource

struct GlobalDatabaseReaderTests {
    @Test func seesOnlyCommittedDataWhileTheWriterHoldsItsTransaction() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 20, initiallyActive: 1)
        let reader = GlobalDatabaseReader(path: path)
        simulator.now = baseTime + 30
        try simulator.apply(.stop(agentID: 3))
        try simulator.apply(.register)
        #expect(simulator.hasOpenTransaction)

        let during = try reader.read()
        #expect(during.snapshot.count == 20)
        #expect(during.snapshot.record(id: 3)?.status == .active)

        try simulator.commit()
        let after = try reader.read()
        #expect(after.snapshot.count == 21)
        #expect(after.snapshot.record(id: 3)?.status == .disconnected)
        #expect(after.snapshot.record(id: 3)?.statusCode == 3)
        #expect(after.snapshot.record(id: 3)?.disconnectionTime == baseTime + 30)
        try simulator.close()
    }

    @Test func holdsNoLockBetweenReads() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 50).close()
        let reader = GlobalDatabaseReader(path: path)
        _ = try reader.read()
        var configuration = Configuration()
        configuration.busyMode = .immediateError
        let writer = try DatabaseQueue(path: path, configuration: configuration)
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            try db.execute(
                sql: "UPDATE agent SET connection_status = 'disconnected', disconnection_time = 1 WHERE id = 1")
            try db.execute(sql: "COMMIT")
        }
        #expect(try reader.read().snapshot.record(id: 1)?.disconnectionTime == 1)
    }

    @Test func reopensWhenTheFileIsReplaced() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 5).close()
        let reader = GlobalDatabaseReader(path: path)
        #expect(try reader.read().snapshot.count == 5)

        let replacement = directory.file("restored.db")
        try WazuhSimulator.fixture(replacement, schema: .wazuh4(minor: 6), agents: 8).close()
        _ = rename(replacement, path)

        let read = try reader.read()
        #expect(read.opened)
        #expect(read.snapshot.count == 8)
        #expect(read.schema.generation == .wazuh4(dbVersion: 5))
    }

    @Test func reportsAMissingFileAsATypedErrorNamingThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("absent.db")
        #expect(throws: WazuhSourceError.self) { try GlobalDatabaseReader(path: path).read() }
        do throws(WazuhSourceError) {
            _ = try GlobalDatabaseReader(path: path).read()
        } catch {
            #expect(error.code == .fileMissing)
            #expect(error.description.contains(path))
        }
        #expect(!FileManager.default.fileExists(atPath: path), "the reader must never create the file")
    }

    @Test func reportsAGarbageFileAsNotADatabase() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        var random = SimulatorRandom(seed: 3)
        let garbage = (0..<8192).map { _ in UInt8.random(in: 0...255, using: &random) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(garbage)))
        do throws(WazuhSourceError) {
            _ = try GlobalDatabaseReader(path: path).read()
            Issue.record("garbage was read as a database")
        } catch {
            #expect(error.code == .notADatabase)
            #expect(error.description.contains(path))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(garbage), "the file must be left untouched")
    }

    /// Root ignores mode bits, so as root a directory stands in for an unreadable file;
    /// as any other user the file is made unreadable with chmod 000.
    @Test func reportsAnUnreadablePathAsATypedError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        if getuid() == 0 {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
            do throws(WazuhSourceError) {
                _ = try GlobalDatabaseReader(path: path).read()
                Issue.record("a directory was read as a database")
            } catch {
                #expect(error.code == .notARegularFile)
                #expect(error.description.contains(path))
            }
        } else {
            try WazuhSimulator.fixture(path, agents: 1).close()
            chmod(path, 0)
            do throws(WazuhSourceError) {
                _ = try GlobalDatabaseReader(path: path).read()
                Issue.record("an unreadable file was read")
            } catch {
                #expect(error.code == .permissionDenied)
            }
        }
    }

    @Test func carriesHostileNamesFaithfully() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        let simulator = try WazuhSimulator.fixture(path, agents: 0)
        let names = [
            "web.prod.example.com", "agent*", "agent>", "a.*.>", "quote\"d 'name'", "tab\tnew\nline\u{1}bell\u{7}",
            String(repeating: "n", count: 10_000), "ünïcødé 🛰️ 名前",
        ]
        var ids: [Int] = []
        for name in names {
            if let id = try simulator.apply(.registerNamed(name)) { ids.append(id) }
        }
        let invalid: [UInt8] = [0x61, 0xff, 0xfe, 0x62, 0xc3]
        let invalidID = try simulator.apply(.registerRawName(invalid))
        let withNUL = Array("null\u{0}inside".utf8)
        let nulID = try #require(try simulator.apply(.registerRawName(withNUL)))
        try simulator.commit()
        try simulator.close()

        let snapshot = try GlobalDatabaseReader(path: path).read().snapshot
        for (id, name) in zip(ids, names) {
            #expect(snapshot.record(id: id)?.name == name)
        }
        let invalidAgent = try #require(invalidID)
        let index = try #require(snapshot.agentIDs.firstIndex(of: invalidAgent))
        #expect(Array(snapshot.nameBytes(at: index)) == invalid)
        #expect(snapshot.record(at: index).name == "a\u{FFFD}\u{FFFD}b\u{FFFD}")
        #expect(snapshot.record(id: nulID)?.name == "null\u{0}inside")
        let restored = try AgentSnapshot(exported: snapshot.export())
        #expect(restored == snapshot)
        #expect(Array(restored.nameBytes(at: index)) == invalid)
    }

    @Test func leavesTheJournalModeAndFileAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 10).close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = GlobalDatabaseReader(path: path)
        for _ in 0..<5 { _ = try reader.read() }
        reader.close()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        let mode = try openForWriting(path).read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "delete")
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// wazuh-db holds its exclusive lock for the length of a COMMIT: a read arriving meanwhile
    /// waits it out (in steps much shorter than SQLite's default millisecond) and sees the commit.
    @Test func waitsOutTheWritersExclusiveLock() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 20, initiallyActive: 1).close()
        let reader = GlobalDatabaseReader(path: path)
        _ = try reader.read()
        // Released 30 ms after it is first asked, that is once the lock is held.
        let lockedAt = Mutex<ContinuousClock.Instant?>(nil)
        let holder = try await holdExclusiveLock(
            path, writing: "UPDATE agent SET connection_status = 'disconnected', disconnection_time = 9 WHERE id = 4",
            until: {
                lockedAt.withLock { start in
                    let now = ContinuousClock.now
                    if start == nil { start = now }
                    return now - (start ?? now) > .milliseconds(30)
                }
            })
        let clock = ContinuousClock()
        let start = clock.now
        let read = try reader.read()
        let waited = clock.now - start
        try await holder.value
        #expect(read.snapshot.record(id: 4)?.status == .disconnected)
        #expect(read.busyRetries == 0)
        #expect(waited < .seconds(1))
    }

    /// A lock held past the busy timeout and every retry is a typed `busy` error, reported after a
    /// bounded wait; the next read after the writer lets go succeeds.
    @Test func reportsBusyAfterTheTimeoutAndRetries() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("global.db")
        try WazuhSimulator.fixture(path, agents: 20, initiallyActive: 1).close()
        let reader = GlobalDatabaseReader(
            configuration: .init(
                path: path, busyTimeout: .milliseconds(20), busyRetries: 2, busyBackoff: .milliseconds(5)))
        _ = try reader.read()
        let released = ReadingSwitch()
        let holder = try await holdExclusiveLock(
            path, writing: "UPDATE agent SET connection_status = 'pending' WHERE id = 5", until: { released.finished })
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            try reader.read()
        } throws: { error in
            (error as? WazuhSourceError)?.code == .busy
        }
        let waited = clock.now - start
        released.finish()
        try await holder.value
        // Three attempts of 20 ms and pauses of 5 and 10 ms: about 75 ms, never seconds.
        #expect(waited >= .milliseconds(60))
        #expect(waited < .seconds(2))
        #expect(try reader.read().snapshot.record(id: 5)?.status == .pending)
    }

    /// Holds an exclusive lock on `path` from a background task, as wazuh-db does while committing,
    /// with `sql` written and not yet committed, until `release` says so; returns once it is held.
    func holdExclusiveLock(
        _ path: String, writing sql: String, until release: @escaping @Sendable () -> Bool
    ) async throws -> Task<Void, any Error> {
        let writer = try openForWriting(path)
        let locked = ReadingSwitch()
        let holder = Task.detached {
            try writer.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN EXCLUSIVE")
                try db.execute(sql: sql)
                locked.set(on: true)
                while !release() { Thread.sleep(forTimeInterval: 0.002) }  // the lock holder's own idle loop
                try db.execute(sql: "COMMIT")
            }
        }
        try await eventually("the writer holding its lock", poll: .milliseconds(1)) { locked.on }
        return holder
    }
}
