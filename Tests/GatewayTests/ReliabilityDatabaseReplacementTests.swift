import Foundation
import ReliabilityChecker
import Testing
import WazuhSimulator
import WazuhSource

#if canImport(Glibc)
    import Glibc
#endif

/// The rest of global.db's trouble under the real binary: the file replaced by another one (a new inode)
/// and its read permission taken away and given back.
///
/// What "reported honestly" means after a replacement: an agent is the pair (id, `date_add`), as in
/// ``ChangeDetector``. A copy of the same fleet (a restore, `VACUUM INTO` and rename) changes nothing, so
/// the gateway publishes nothing; a different fleet is published as what it is: every agent that vanished
/// is `removed` (from its last status), every new one `registered` (in its current status), and nothing else.
@Suite(.serialized) struct ReliabilityDatabaseReplacementTests {
    typealias Trouble = ReliabilityDatabaseTroubleTests

    static func statusEvents(_ records: [StreamRecord]) -> [AgentStatusEventSummary] {
        records.compactMap { record in
            guard case .event(let event, let channel) = record.content, channel == "status" else { return nil }
            return AgentStatusEventSummary(
                type: event.eventType, agentID: Int(event.agentID) ?? -1, previous: event.previousStatus,
                current: event.currentStatus)
        }
    }

    /// The same fleet copied over global.db and later the writer's own file put back: no event from the
    /// swaps themselves, and the storm before and after is delivered exactly.
    @Test func replacedBySameFleetCopyInventsNothingAndMissesNothing() async throws {
        let seed = ReliabilityStormTests.seed
        let harness = try DaemonHarness()
        try await harness.server.start()
        let (simulator, truthPath) = try ReliabilityVerdict.fleet(harness, seed: seed)
        let slot = GatewaySlot(configPath: try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s"))
        let reader = StreamReader(
            urls: harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        let path = harness.databasePath
        try await slot.running(servers: [harness.server], closing: reader) {
            let (gateway, port) = try await ReliabilityVerdict.startReady(slot)
            let driver = ReliabilityStormDriver(simulator: simulator, reader: reader, seed: seed)
            try await Trouble.burst(driver, steps: 40)
            try await Trouble.settle(driver, "before the replacement")

            // A copy of the committed file replaces it (new inode), as a restore would; the writer's own
            // file stays linked aside (SQLite refuses to write a file that was renamed away, so the writer
            // pauses meanwhile). Then the writer's file comes back: a second replacement.
            let readMetric = "wazuh_nats_gateway_last_successful_source_read_timestamp_seconds"
            for (from, aside) in [(path + ".copy", path + ".writer"), (path + ".writer", nil)] {
                if aside != nil { try FileManager.default.copyItem(atPath: path, toPath: from) }
                let noticed = gateway.stderr.components(separatedBy: "global.db was replaced, reopening").count
                if let aside { #expect(link(path, aside) == 0) }
                #expect(rename(from, path) == 0)
                try await eventually("the replacement noticed", timeout: .seconds(30)) {
                    gateway.stderr.components(separatedBy: "global.db was replaced, reopening").count > noticed
                }
                let reopenedAt = Date().timeIntervalSince1970
                try await eventually("the replaced file read", timeout: .seconds(30), poll: .milliseconds(100)) {
                    try await ReliabilityOutageTests.metric(readMetric, port: port) > reopenedAt
                }
            }
            try await Trouble.burst(driver, steps: 20)
            try await Trouble.settle(driver, "at the end")
            let reopened = gateway.stderr.components(separatedBy: "global.db was replaced, reopening").count - 1

            let report = try await ReliabilityVerdict.conclude(
                "database-replaced-same-fleet", seed: seed, harness: harness, truthPath: truthPath, slot: slot,
                reader: reader, extra: [("reopened", "\(reopened)")])
            #expect(report.inventedEvents == 0)
            #expect(reopened >= 2)
        }
    }

    /// A different fleet's file replaces global.db: every old agent is `removed` from its last status,
    /// every new one `registered` in its status, nothing else; and the old file back reverses it.
    @Test func replacedByDifferentFleetReportsRemovalsAndRegistrations() async throws {
        let seed = ReliabilityStormTests.seed
        let harness = try DaemonHarness()
        try await harness.server.start()
        let path = harness.databasePath
        let old = try WazuhSimulator(configuration: .init(databasePath: path, agentCount: 30, seed: seed))
        let slot = GatewaySlot(configPath: try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s"))
        let reader = StreamReader(
            urls: harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        try await slot.running(servers: [harness.server], closing: reader) {
            _ = try await ReliabilityVerdict.startReady(slot)
            _ = try await reader.readNew()
            let new = try WazuhSimulator(
                configuration: .init(databasePath: path + ".other", agentCount: 40, seed: seed &+ 1),
                now: old.now + 86_400 * 366)
            try new.close()
            func fleet(_ simulator: WazuhSimulator) -> [Int: String] {
                Dictionary(
                    uniqueKeysWithValues: simulator.agentIDs.map {
                        ($0, ConnectionStatus(databaseValue: simulator.status(of: $0)).rawValue)
                    })
            }
            let before = fleet(old)
            let after = fleet(new)
            var expected = Set(
                before.map { AgentStatusEventSummary(type: "removed", agentID: $0, previous: $1, current: "Unknown") })
            expected.formUnion(
                after.map { AgentStatusEventSummary(type: "registered", agentID: $0, previous: "Unknown", current: $1) }
            )

            #expect(link(path, path + ".old") == 0)
            #expect(rename(path + ".other", path) == 0)
            var events: [AgentStatusEventSummary] = []
            try await eventually("the new fleet reported", timeout: .seconds(60), poll: .milliseconds(100)) {
                events += Self.statusEvents((try? await reader.readNew()) ?? [])
                return events.count >= expected.count
            }
            #expect(events.count == expected.count)
            #expect(Set(events) == expected)

            // The old file back: the reverse, again exactly.
            var reverse = Set(
                after.map { AgentStatusEventSummary(type: "removed", agentID: $0, previous: $1, current: "Unknown") })
            reverse.formUnion(
                before.map {
                    AgentStatusEventSummary(type: "registered", agentID: $0, previous: "Unknown", current: $1)
                })
            #expect(rename(path + ".old", path) == 0)
            events = []
            try await eventually("the old fleet reported back", timeout: .seconds(60), poll: .milliseconds(100)) {
                events += Self.statusEvents((try? await reader.readNew()) ?? [])
                return events.count >= reverse.count
            }
            #expect(events.count == reverse.count)
            #expect(Set(events) == reverse)
            let last = try await slot.terminate(within: .seconds(25))
            #expect(last.status == 0, "stderr: \(slot.stderrTail)")
            events += Self.statusEvents(try await reader.readNew())
            #expect(events.count == reverse.count, "events after the swaps settled: \(events.count - reverse.count)")
            await reader.close()
            ReliabilityStormTests.report(
                "database-replaced-other-fleet",
                [
                    ("seed", "\(seed)"), ("removed", "\(before.count)+\(after.count)"),
                    ("registered", "\(after.count)+\(before.count)"), ("other_events", "0"),
                ])
        }
    }

    /// The gateway runs as `nobody` (root ignores file modes); global.db's read permission is taken away
    /// while changes are committed, then given back: the gateway reports it (log, read-error counter,
    /// `/readyz`), retries, and delivers every transition once, inventing none.
    @Test func permissionRemovedAndRestoredResumesWithoutMissedOrInventedTransitions() async throws {
        let seed = ReliabilityStormTests.seed
        let harness = try DaemonHarness()
        try await harness.server.start()
        let (simulator, truthPath) = try ReliabilityVerdict.fleet(harness, seed: seed)
        let path = harness.databasePath
        // What `nobody` needs: its keys, its outbox directory, and read access to global.db (as group wazuh has).
        let state = (harness.configuration.outbox.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        #expect(chmod(path, 0o644) == 0)
        let configPath = try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s")
        for owned in [harness.directory + "/keys", harness.signingKeyPath, state, configPath] {
            #expect(chown(owned, 65534, 65534) == 0)
        }
        let slot = GatewaySlot(
            configPath: configPath,
            launcher: ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        let reader = StreamReader(
            urls: harness.server.url, stream: harness.configuration.nats.stream, opener: try harness.opener())
        try await slot.running(servers: [harness.server], closing: reader) {
            let gateway = try slot.start()
            let port = try await gateway.monitoringPort()
            do {
                try await eventually("the gateway ready", timeout: .seconds(30)) {
                    try await LoopbackHTTP.get(port: port, path: "/readyz").status == 200
                }
            } catch {
                Issue.record("not ready as nobody: \(slot.stderrTail)")
                throw error
            }
            let driver = ReliabilityStormDriver(simulator: simulator, reader: reader, seed: seed)
            try await Trouble.burst(driver, steps: 40)
            try await Trouble.settle(driver, "before the permission is removed")

            let errors = try await Trouble.readErrorCount(port: port)
            try await Trouble.burst(driver, steps: 5)
            #expect(chmod(path, 0) == 0)
            try await eventually("the lost permission reported", timeout: .seconds(30)) {
                try await Trouble.readErrorCount(port: port) > errors
            }
            #expect(gateway.stderr.contains("no longer readable"), "stderr: \(slot.stderrTail)")
            try await Trouble.burst(driver, steps: 5)
            var readiness = ""
            do {
                try await eventually("/readyz names the cause", timeout: .seconds(60), poll: .milliseconds(200)) {
                    let reply = try await LoopbackHTTP.get(port: port, path: "/readyz")
                    readiness = "\(reply.status) \(reply.body)"
                    return reply.status == 503 && reply.body.contains("permission denied")
                }
            } catch {
                Issue.record("last /readyz: \(readiness); stderr: \(slot.stderrTail)")
                throw error
            }
            #expect(chmod(path, 0o644) == 0)
            try await Trouble.settle(driver, "after the permission came back")
            try await Trouble.burst(driver, steps: 20)
            try await Trouble.settle(driver, "at the end")
            #expect(gateway.process.isRunning)

            let totalErrors = try await Trouble.readErrorCount(port: port)
            try await ReliabilityVerdict.conclude(
                "database-permission", seed: seed, harness: harness, truthPath: truthPath, slot: slot, reader: reader,
                extra: [("read_errors_reported", "\(Int(totalErrors))")])
        }
    }
}

/// The part of a status event that says which transition it is.
struct AgentStatusEventSummary: Hashable, Sendable, CustomStringConvertible {
    var type: String
    var agentID: Int
    var previous: String
    var current: String

    var description: String { "\(type) \(agentID) \(previous)→\(current)" }
}
