import Foundation
import NATSTestSupport
import Outbox
import Testing
import WazuhSimulator
import WireContract

@testable import Gateway

/// The whole daemon in-process: simulated global.db → outbox → real nats-server with JetStream,
/// checked through the stream (verified with `MessageOpener`), `/metrics` and `/readyz`.
struct DaemonEndToEndTests {
    @Test func deliversStatusChangesOnTheirSubjectsAndReportsThem() async throws {
        let harness = try DaemonHarness()
        try await harness.server.start()
        let simulator = try harness.makeSimulator(agentCount: 20)
        let daemon = harness.startDaemon()
        do {
            try await eventually("ready", timeout: .seconds(15)) {
                try await daemon.get("/readyz").status == 200
            }
            #expect(try await daemon.get("/healthz").status == 200)

            let active = simulator.agents(withStatus: "active")
            let stopped = try #require(active.first)
            let timedOut = try #require(active.dropFirst().first)
            try simulator.apply(.stop(agentID: stopped))
            try simulator.apply(.keepaliveTimeout(agentID: timedOut))
            let registered = try #require(try simulator.apply(.register))
            try simulator.commit()

            var stored: [StoredEvent] = []
            try await eventually("the events in the stream", timeout: .seconds(15)) {
                stored = try await harness.storedMessages()
                return stored.filter { $0.subject.hasSuffix(".status") }.count >= 3
            }
            let token = { (id: Int) in Subjects.agentToken(id) }
            let stoppedEvent = try #require(
                stored.first { $0.subject == "wazuh.agent.\(token(stopped)).status" }?.event)
            #expect(stoppedEvent.currentStatus == "Disconnected")
            #expect(stoppedEvent.previousStatus == "Active")
            #expect(stoppedEvent.reason == "agent_stopped")
            #expect(stoppedEvent.managerNode == "manager-e2e")
            #expect(stored.contains { $0.subject == "wazuh.agent.\(token(stopped)).disconnected" })
            #expect(stored.contains { $0.subject == "wazuh.agent.\(token(timedOut)).disconnected" })
            let registration = try #require(
                stored.first { $0.subject == "wazuh.agent.\(token(registered)).status" }?.event)
            #expect(registration.eventType == "registered")
            #expect(stored.contains { $0.subject == "wazuh.agent.\(token(registered)).registered" })
            #expect(stored.contains { if case .batch = $0.opened { true } else { false } })
            // Every message carries its event id (or batch id) as Nats-Msg-Id, once.
            let ids = stored.compactMap(\.messageID)
            #expect(Set(ids).count == ids.count)

            // Published counts as messages are acknowledged, detected as the events are journaled.
            try await eventually("published and detected counts in /metrics") {
                let text = try await daemon.get("/metrics").body
                return MetricsText.sum(text, name: "wazuh_nats_gateway_messages_published_total") >= 6
                    && MetricsText.sum(text, name: "wazuh_nats_gateway_events_detected_total") >= 3
            }
            let text = try await daemon.get("/metrics").body
            #expect(MetricsText.sum(text, name: "wazuh_nats_gateway_events_detected_total") >= 3)
            #expect(text.contains("wazuh_nats_gateway_nats_connected 1"))
            #expect(
                MetricsText.sum(
                    text, name: "wazuh_nats_gateway_last_successful_source_read_timestamp_seconds") > 0)
            // Heartbeats (signed, not journaled) report the fleet as last read.
            try await eventually("a heartbeat with the fleet counts") {
                try await harness.storedMessages().contains {
                    if case .heartbeat(let beat) = $0.opened {
                        return beat.fleet.totalAgents == 21 && beat.managerNode == "manager-e2e"
                            && beat.natsState == "connected"
                    }
                    return false
                }
            }
            #expect(harness.logs.contains("wazuh-nats-gateway starting"))
            #expect(
                !harness.logs.all.contains { $0.contains(harness.signingKeyPath) && $0.contains("BEGIN") })
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }

    @Test func readinessFollowsNATSAndEventsJournaledMeanwhileArriveInOrder() async throws {
        let harness = try DaemonHarness()
        try await harness.server.start()
        let simulator = try harness.makeSimulator(agentCount: 20)
        let daemon = harness.startDaemon()
        do {
            try await eventually("ready", timeout: .seconds(15)) {
                try await daemon.get("/readyz").status == 200
            }
            await harness.server.stop()
            try await eventually("503 naming nats") {
                let reply = try await daemon.get("/readyz")
                return reply.status == 503 && reply.body.contains("nats")
            }
            // Flapping one agent while NATS is down: the outbox keeps every transition in order.
            let agent = try #require(simulator.agents(withStatus: "active").first)
            let transitions: [SimulatorAction] = [
                .stop(agentID: agent), .connect(agentID: agent), .activate(agentID: agent),
                .stop(agentID: agent),
            ]
            let statusSubject = "wazuh.agent.\(Subjects.agentToken(agent)).status"
            for (index, action) in transitions.enumerated() {
                try simulator.apply(action)
                simulator.now += 1
                try simulator.commit()
                // Each transition is journaled before the next is written, so none is folded into another.
                try await eventually("transition \(index + 1) journaled", timeout: .seconds(15)) {
                    let reader = try OutboxReader(path: harness.configuration.outbox.path)
                    defer { try? reader.close() }
                    return try reader.entries(matching: OutboxQuery(kinds: [.event], limit: 10_000))
                        .filter { $0.message.subject == statusSubject }.count == index + 1
                }
            }
            try await harness.server.restart()
            try await eventually("ready again", timeout: .seconds(15)) {
                try await daemon.get("/readyz").status == 200
            }
            var statuses: [String] = []
            try await eventually("the four transitions in the stream", timeout: .seconds(15)) {
                statuses = try await harness.storedMessages()
                    .filter { $0.subject == "wazuh.agent.\(Subjects.agentToken(agent)).status" }
                    .compactMap(\.event?.currentStatus)
                return statuses.count >= 4
            }
            #expect(statuses == ["Disconnected", "Pending", "Active", "Disconnected"])
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }

    @Test func readinessFollowsTheDatabase() async throws {
        let harness = try DaemonHarness()
        try await harness.server.start()
        let simulator = try harness.makeSimulator(agentCount: 10)
        try simulator.close()
        let daemon = harness.startDaemon(readinessAge: .seconds(1))
        do {
            try await eventually("ready", timeout: .seconds(15)) {
                try await daemon.get("/readyz").status == 200
            }
            let aside = harness.databasePath + ".aside"
            try FileManager.default.moveItem(atPath: harness.databasePath, toPath: aside)
            try await eventually("503 naming the source") {
                let reply = try await daemon.get("/readyz")
                return reply.status == 503 && reply.body.contains("source")
            }
            #expect(!(try await daemon.get("/readyz").body.contains("nats")))
            try await eventually("read errors counted") {
                MetricsText.sum(
                    try await daemon.get("/metrics").body, name: "wazuh_nats_gateway_source_read_errors_total"
                )
                    > 0
            }
            try FileManager.default.moveItem(atPath: aside, toPath: harness.databasePath)
            try await eventually("ready again", timeout: .seconds(15)) {
                try await daemon.get("/readyz").status == 200
            }

            // Garbage in place of the database is a source problem too, and the daemon keeps running.
            try FileManager.default.moveItem(atPath: harness.databasePath, toPath: aside)
            try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: harness.databasePath))
            try await eventually("503 for a garbage database") {
                let reply = try await daemon.get("/readyz")
                return reply.status == 503 && reply.body.contains("source")
            }
            try FileManager.default.removeItem(atPath: harness.databasePath)
            try FileManager.default.moveItem(atPath: aside, toPath: harness.databasePath)
            try await eventually("ready after restoring", timeout: .seconds(15)) {
                try await daemon.get("/readyz").status == 200
            }
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }

    @Test func startsWithoutNATSAndCreatesThePrivateOutboxDirectory() async throws {
        let harness = try DaemonHarness()
        let simulator = try harness.makeSimulator(agentCount: 10)
        try simulator.close()
        let daemon = harness.startDaemon()
        do {
            try await eventually("503 naming nats only", timeout: .seconds(15)) {
                let reply = try await daemon.get("/readyz")
                return reply.status == 503 && reply.body.contains("nats") && !reply.body.contains("source")
            }
            let directory = (harness.configuration.outbox.path as NSString).deletingLastPathComponent
            let attributes = try FileManager.default.attributesOfItem(atPath: directory)
            #expect((attributes[.posixPermissions] as? Int) == 0o700)
            try await harness.server.start()
            try await eventually("ready once NATS is up", timeout: .seconds(20)) {
                try await daemon.get("/readyz").status == 200
            }
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }

    @Test func movesACorruptOutboxAsideAndKeepsRunning() async throws {
        let harness = try DaemonHarness()
        try await harness.server.start()
        let simulator = try harness.makeSimulator(agentCount: 10)
        try simulator.close()
        let outboxPath = harness.configuration.outbox.path
        try FileManager.default.createDirectory(
            atPath: (outboxPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 4096).write(to: URL(fileURLWithPath: outboxPath))
        let daemon = harness.startDaemon()
        do {
            try await eventually("ready", timeout: .seconds(15)) { try await daemon.get("/readyz").status == 200 }
            let text = try await daemon.get("/metrics").body
            #expect(MetricsText.sum(text, name: "wazuh_nats_gateway_outbox_corruption_recoveries_total") == 1)
            #expect(harness.logs.contains("the outbox was corrupt and was moved aside"))
            let directory = (outboxPath as NSString).deletingLastPathComponent
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            #expect(names.contains { $0.hasPrefix("outbox.db.corrupt-") })
        } catch {
            _ = try? await daemon.shutdown()
            await harness.server.stop()
            throw error
        }
        try await daemon.shutdown()
        await harness.server.stop()
    }
}
