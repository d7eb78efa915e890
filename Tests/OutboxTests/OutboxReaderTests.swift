import Foundation
import GRDB
import Testing

@testable import Outbox

struct OutboxReaderTests {
    /// An outbox of `count` pending messages, closed (checkpointed: no `-wal`/`-shm` left).
    private func journal(_ dir: TemporaryDirectory, count: Int = 5) throws {
        let store = try Fixtures.open(dir, clock: TestClock())
        try store.appendDetection(messages: (1...count).map { Fixtures.message($0) }, snapshot: [1])
        try store.close()
    }

    private func contents(_ path: String) -> Data? {
        FileManager.default.contents(atPath: path)
    }

    private func openError(_ path: String, busyTimeout: Duration = .seconds(2)) -> OutboxError? {
        do {
            _ = try OutboxReader(path: path, busyTimeout: busyTimeout)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsWhatTheStoreJournaledWithoutChangingTheFile() throws {
        let dir = try TemporaryDirectory()
        try self.journal(dir)
        let before = self.contents(dir.outboxPath)
        let reader = try OutboxReader(path: dir.outboxPath)
        let stats = try reader.stats()
        #expect(stats.pending == 5 && stats.delivered == 0 && stats.lastSeq == 5)
        #expect(try reader.entries(matching: OutboxQuery(limit: 10)).map(\.message.seq) == [1, 2, 3, 4, 5])
        #expect(try reader.baselineRecordedAt() == nil)
        try reader.close()
        #expect(self.contents(dir.outboxPath) == before)
        let journalMode = try Fixtures.withConnection(dir.outboxPath) { db in
            try String.fetchOne(db, sql: "PRAGMA journal_mode")
        }
        #expect(journalMode == "wal")
    }

    @Test func aMissingFileIsReportedAndNotCreated() throws {
        let dir = try TemporaryDirectory()
        let error = try #require(self.openError(dir.outboxPath))
        #expect(error.code == .missing)
        #expect(error.description.contains(dir.outboxPath) && error.description.contains("has not run yet"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        #expect(self.openError(dir.path + "/no-such-directory/outbox.sqlite")?.code == .missing)
        #expect(self.openError(dir.path)?.code == .notADatabase)
    }

    @Test func garbageIsNotADatabaseAndStaysAsItWas() throws {
        let dir = try TemporaryDirectory()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try garbage.write(to: URL(fileURLWithPath: dir.outboxPath))
        let error = try #require(self.openError(dir.outboxPath))
        #expect(error.code == .notADatabase)
        #expect(error.description.contains("is not an SQLite database"))
        #expect(self.contents(dir.outboxPath) == garbage)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["outbox.sqlite"])
    }

    @Test func damagedPagesAreReportedAsCorruptAndLeftInPlace() throws {
        let dir = try TemporaryDirectory()
        try self.journal(dir, count: 400)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir.outboxPath))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 8192))
        try handle.close()
        let damaged = self.contents(dir.outboxPath)

        let error = try #require(self.openError(dir.outboxPath))
        #expect(error.code == .corrupt)
        #expect(error.sqliteCode.map { $0 & 0xFF } == 11)
        #expect(self.contents(dir.outboxPath) == damaged)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!names.contains { $0.contains("corrupt") })
    }

    @Test func corruptionFoundWhileReadingIsReportedAsCorrupt() throws {
        let dir = try TemporaryDirectory()
        try self.journal(dir)
        // Damage only the journal table's page: the schema check passes, reading rows does not.
        let rootPage = try Fixtures.withConnection(dir.outboxPath) { db in
            try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'outbox'")
        }
        let page = try #require(rootPage)
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: dir.outboxPath))
        try handle.seek(toOffset: UInt64((page - 1) * 4096))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 4096))
        try handle.close()

        let reader = try OutboxReader(path: dir.outboxPath)
        #expect {
            try reader.entries(matching: OutboxQuery(limit: 10))
        } throws: { error in
            (error as? OutboxError)?.code == .corrupt
        }
    }

    @Test func databasesWithoutTheOutboxSchemaAreNotOutboxes() throws {
        let dir = try TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: dir.outboxPath, contents: Data())
        #expect(self.openError(dir.outboxPath)?.code == .notAnOutbox)
        #expect(self.contents(dir.outboxPath) == Data())

        let other = dir.path + "/other.sqlite"
        try Fixtures.withConnection(other) { db in try db.execute(sql: "CREATE TABLE agent (id INTEGER)") }
        let error = try #require(self.openError(other))
        #expect(error.code == .notAnOutbox && error.description.contains("without the outbox schema"))
    }

    @Test func schemasNewerOrOlderThanThisBinaryAreRefused() throws {
        let dir = try TemporaryDirectory()
        try self.journal(dir)
        let known = OutboxMigrationsList.identifiers

        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v999_from_the_future')")
        }
        let newer = try #require(self.openError(dir.outboxPath))
        #expect(newer.code == .schemaTooNew)
        #expect(newer.description.contains("v999_from_the_future") && newer.description.contains(known.last ?? "?"))

        try Fixtures.withConnection(dir.outboxPath) { db in
            try db.execute(
                sql: "DELETE FROM grdb_migrations WHERE identifier IN ('v999_from_the_future', ?)",
                arguments: [known.last])
        }
        let older = try #require(self.openError(dir.outboxPath))
        #expect(older.code == .schemaTooOld)
        #expect(older.description.contains(known.last ?? "?"))
        // Refusing changed nothing: the migration is still missing.
        let applied = try Fixtures.withConnection(dir.outboxPath) { db in
            try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
        }
        #expect(applied == Array(known.dropLast()))
    }

    @Test func aDatabaseLockedLongerThanTheBusyTimeoutIsReportedAsBusy() throws {
        let dir = try TemporaryDirectory()
        try self.journal(dir)
        // A connection in exclusive locking mode that has written keeps every other connection out.
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        let holder = try DatabaseQueue(path: dir.outboxPath, configuration: configuration)
        try holder.write { db in try db.execute(sql: "UPDATE outbox SET attempts = 1 WHERE seq = 1") }

        let started = ContinuousClock.now
        let error = try #require(self.openError(dir.outboxPath, busyTimeout: .milliseconds(300)))
        let waited = ContinuousClock.now - started
        #expect(error.code == .busy)
        #expect(error.description.contains("locked"))
        #expect(waited >= .milliseconds(250) && waited < .seconds(5))
        try holder.close()
        #expect(self.openError(dir.outboxPath) == nil)
    }

    @Test func aJournalBeingWrittenByALiveStoreIsReadable() async throws {
        let dir = try TemporaryDirectory()
        let store = try Fixtures.open(dir, clock: TestClock())
        try store.appendDetection(messages: (1...3).map { Fixtures.message($0) }, snapshot: [1])
        let reader = try OutboxReader(path: dir.outboxPath)
        #expect(try reader.stats().pending == 3)

        // The store keeps journaling and delivering while the reader reads.
        let writer = Task {
            for index in 4...200 {
                try store.appendDetection(messages: [Fixtures.message(index)], snapshot: [UInt8(index % 256)])
                if index % 10 == 0 {
                    try store.markDelivered([(seq: Int64(index - 5), streamSequence: nil)], at: 1)
                }
                await Task.yield()
            }
        }
        var seen: [Int64] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while seen.last ?? 0 < 200, ContinuousClock.now < deadline {
            let stats = try reader.stats()
            #expect(stats.pending + stats.delivered == Int(stats.lastSeq))
            seen.append(stats.lastSeq)
            _ = try reader.entries(matching: OutboxQuery(afterSeq: max(0, stats.lastSeq - 20), limit: 20))
            try await Task.sleep(for: .milliseconds(1))  // paces the reader beside the writer, not a wait
        }
        try await writer.value
        #expect(seen == seen.sorted())
        #expect(seen.last == 200)
        #expect(try reader.stats().delivered == 20)
        try reader.close()
        try store.close()
    }
}
