import Foundation
import Testing
import WazuhSimulator
import WazuhSource

#if canImport(Glibc)
    import Glibc
#endif

/// Every way wazuh-db's socket can fail ends in a clear error, and the next read recovers.
@Suite struct WazuhDBSocketErrorTests {
    static func read(_ path: String, timeout: Duration = .seconds(5)) -> WazuhSourceError? {
        do throws(WazuhSourceError) {
            _ = try WazuhDBSocketReader(client: WazuhDBClient(path: path, timeout: timeout)).read()
            return nil
        } catch {
            return error
        }
    }

    @Test func aMissingSocketIsSocketMissing() throws {
        let directory = try TemporaryDirectory()
        let error = Self.read(directory.file("wdb"))
        #expect(error?.code == .socketMissing)
        #expect(error?.description.contains(directory.file("wdb")) == true)
    }

    @Test func aSocketNobodyListensOnIsUnavailable() throws {
        let directory = try TemporaryDirectory()
        // A socket file left behind by a stopped wazuh-db: connecting is refused.
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        let stale = directory.file("stale")
        _ = withUnixSocketAddress(stale) { bind(descriptor, $0, $1) }
        #expect(Self.read(stale)?.code == .socketUnavailable)
    }

    @Test(.enabled(if: getuid() != 0, "root may connect to any socket"))
    func aSocketWithoutPermissionIsPermissionDenied() throws {
        let directory = try TemporaryDirectory()
        let server = try ScriptedWazuhDB(path: directory.file("wdb")) { _ in nil }
        defer { server.stop() }
        chmod(directory.file("wdb"), 0)
        #expect(Self.read(directory.file("wdb"))?.code == .permissionDenied)
    }

    @Test func aClosedConnectionIsUnavailable() throws {
        let directory = try TemporaryDirectory()
        let server = try ScriptedWazuhDB(path: directory.file("wdb")) { _ in nil }
        defer { server.stop() }
        #expect(Self.read(directory.file("wdb"))?.code == .socketUnavailable)
    }

    @Test func aReplyCutMidFrameIsUnavailable() throws {
        let directory = try TemporaryDirectory()
        let server = try ScriptedWazuhDB(path: directory.file("wdb")) { _ in
            Array(ScriptedWazuhDB.frame("ok [{\"name\":\"id\"}]").prefix(9))
        }
        defer { server.stop() }
        // The stand-in writes part of a frame and then answers the next request the same way; the
        // client's deadline or the close ends it, never a hang.
        let error = Self.read(directory.file("wdb"), timeout: .milliseconds(300))
        #expect(error?.code == .socketTimeout || error?.code == .socketUnavailable)
    }

    @Test func aSilentWazuhDBTimesOut() throws {
        let directory = try TemporaryDirectory()
        let server = try ScriptedWazuhDB(path: directory.file("wdb")) { _ in [] }
        defer { server.stop() }
        let error = Self.read(directory.file("wdb"), timeout: .milliseconds(200))
        #expect(error?.code == .socketTimeout)
    }

    @Test func garbageAndOverlongFramesAreMalformed() throws {
        let directory = try TemporaryDirectory()
        for reply in [
            ScriptedWazuhDB.frame("hello"), [0xFF, 0xFF, 0xFF, 0x7F, 1, 2, 3],
            ScriptedWazuhDB.frame("ok {\"not\":\"an array\"}"), ScriptedWazuhDB.frame("ok [{\"name\":\"id\"}]"),
        ] {
            let server = try ScriptedWazuhDB(path: directory.file("wdb")) { _ in reply }
            let error = Self.read(directory.file("wdb"))
            server.stop()
            #expect(error?.code == .malformedReply || error?.code == .notAWazuhDatabase, "\(String(describing: error))")
        }
    }

    @Test func anErrReplyIsAWazuhDBError() throws {
        let directory = try TemporaryDirectory()
        let server = try ScriptedWazuhDB(path: directory.file("wdb")) { _ in
            ScriptedWazuhDB.frame("err Cannot open database")
        }
        defer { server.stop() }
        let error = Self.read(directory.file("wdb"))
        #expect(error?.code == .wazuhDBError)
        #expect(error?.description.contains("Cannot open database") == true)
    }

    @Test func theReaderRecoversAfterWazuhDBRestarts() throws {
        let directory = try TemporaryDirectory()
        let simulator = try WazuhSimulator.fixture(directory.file("global.db"), agents: 5)
        let reader = WazuhDBSocketReader(client: WazuhDBClient(path: directory.file("wdb"), timeout: .seconds(5)))
        var server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        #expect(try reader.read().snapshot.count == 5)
        server.stop()
        #expect(throws: WazuhSourceError.self) { _ = try reader.read() }
        server = try simulator.serveWazuhDB(at: directory.file("wdb"))
        defer { server.stop() }
        #expect(try reader.read().snapshot.count == 5)
    }
}
