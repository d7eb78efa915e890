import Foundation
import Outbox
import Testing

@testable import Gateway
@testable import GatewayCommands

struct OutboxCommandTests {
    /// Six messages: seq 1–3 delivered, 4 parked, 5–6 pending; agents 1, 2, 3, 1, 2, 3.
    private func prepared() throws -> (CommandFixture, GatewayConfiguration) {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        try fixture.journal(agents: [1, 2, 3, 1, 2, 3])
        try fixture.markDelivered([1, 2, 3])
        let store = try fixture.openOutbox()
        try store.park(seq: 4, error: "payload too large")
        try store.recordFailure(seq: 5, error: "timeout", nextAttemptAt: nil)
        try store.close()
        return (fixture, configuration)
    }

    private func value(_ lines: [String], _ name: String) -> String? {
        lines.first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    @Test func statsReportCountsAgesAndSize() throws {
        let (fixture, configuration) = try self.prepared()
        let lines = try OutboxInspection.statsLines(configuration, now: fixture.now)
        #expect(self.value(lines, "pending") == "2")
        #expect(self.value(lines, "delivered") == "3")
        #expect(self.value(lines, "parked") == "1")
        #expect(self.value(lines, "last_seq") == "6")
        // seq 5 was journaled 4 minutes after the first row, about 56 minutes before the wall clock.
        let oldest = try #require(self.value(lines, "oldest_pending_age").flatMap { Int($0.dropLast()) })
        #expect((3300...3500).contains(oldest))
        // The snapshot was last written with seq 6, one minute before the fixture's clock.
        #expect(self.value(lines, "snapshot_age") == "60s")
        let bytes = try #require(self.value(lines, "database_bytes")?.split(separator: " ").first.flatMap { Int($0) })
        #expect(bytes > 0)
    }

    @Test func listFiltersByStateAndAgentAndLimits() throws {
        let (fixture, configuration) = try self.prepared()
        defer { withExtendedLifetime(fixture) {} }
        func seqs(_ options: OutboxInspection.ListOptions) throws -> [Int] {
            try OutboxInspection.listLines(configuration, options: options).compactMap {
                Int($0.split(separator: " ").first ?? "")
            }
        }
        #expect(try seqs(.init()) == [1, 2, 3, 4, 5, 6])
        #expect(try seqs(.init(state: .pending)) == [5, 6])
        #expect(try seqs(.init(state: .parked)) == [4])
        #expect(try seqs(.init(state: .delivered)) == [1, 2, 3])
        #expect(try seqs(.init(selection: ReplaySelection(agents: ["002"], includeUndelivered: true))) == [2, 5])
        #expect(try seqs(.init(limit: 2)) == [1, 2])
        #expect(try seqs(.init(state: .pending, limit: 1)) == [5])

        let text = try OutboxInspection.listLines(configuration, options: .init(state: .parked))
        #expect(text.count == 1)
        #expect(text[0].contains("parked") && text[0].contains("wazuh.agent.001.status"))
        #expect(text[0].contains("last_error=\"payload too large\""))
        #expect(!text[0].contains("signature"))
    }

    @Test func listAsJSONHasOneObjectPerLineAndPayloadsOnlyOnRequest() throws {
        let (fixture, configuration) = try self.prepared()
        let lines = try OutboxInspection.listLines(configuration, options: .init(json: true))
        let objects = lines.compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
        #expect(objects.count == 6)
        #expect(
            objects.map { $0["state"] as? String } == [
                "delivered", "delivered", "delivered", "parked", "pending", "pending",
            ])
        #expect(objects[4]["last_error"] as? String == "timeout")
        #expect(objects[4]["attempts"] as? Int == 1)
        #expect(objects[0]["agent_id"] as? String == "001")
        #expect(objects.allSatisfy { $0["payload"] == nil })

        let withPayload = try OutboxInspection.listLines(
            configuration, options: .init(limit: 1, json: true, includePayload: true))
        let object = try #require(
            (try JSONSerialization.jsonObject(with: Data(withPayload[0].utf8))) as? [String: Any])
        let payload = try #require(object["payload"] as? String)
        let event = try #require((try JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any])
        #expect(event["agent_id"] as? String == "001")
        // No key material anywhere.
        let keyText = Data(fixture.signingKeyBytes).base64EncodedString()
        #expect(!(lines + withPayload).contains { $0.contains(keyText) })
    }

    @Test func aMissingOutboxIsReportedAndNotCreated() throws {
        let fixture = try CommandFixture()
        let configuration = try fixture.writeConfiguration()
        #expect {
            try OutboxInspection.statsLines(configuration)
        } throws: { error in
            (error as? OperatorCommandError)?.code == .outboxUnavailable
        }
        #expect(!FileManager.default.fileExists(atPath: fixture.outboxPath))
    }

    @Test func outboxCommandPrintsStatsAndList() async throws {
        let (fixture, _) = try self.prepared()
        let (status, output) = try await BuiltExecutable.run(
            ["outbox", "stats", "--config", fixture.configPath], timeout: .seconds(15))
        #expect(status == 0)
        #expect(output.contains("pending: 2\n") && output.contains("parked: 1\n"))
        let (listStatus, list) = try await BuiltExecutable.run(
            ["outbox", "list", "--config", fixture.configPath, "--pending", "--json"], timeout: .seconds(15))
        #expect(listStatus == 0)
        #expect(list.split(separator: "\n").count == 2)
    }
}
