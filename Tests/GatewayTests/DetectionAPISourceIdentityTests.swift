import Foundation
import Logging
import Testing
import WazuhAPISource
import WazuhSimulator
import WazuhSource
import WireContract

@testable import Gateway

/// One simulated fleet read from global.db and from its REST API: the same transitions encode to the
/// same event ids, whichever source the gateway reads.
@Suite struct DetectionAPISourceIdentityTests {
    @Test func theSameTransitionFromTheFileAndTheAPIHasTheSameEventID() async throws {
        let temporary = try TemporaryDirectory(prefix: "api-identity")
        let directory = temporary.path
        let simulator = try WazuhSimulator(
            configuration: .init(databasePath: directory + "/global.db", agentCount: 40, initiallyActive: 0.8),
            now: 1_767_225_600)
        defer { try? simulator.close() }
        let server = try simulator.makeAPIServer(
            configuration: .init(user: "gateway", password: "api-Passw0rd", directory: directory))
        try await server.start()
        let client = try WazuhAPIClient(
            configuration: .init(
                url: server.url, credentials: .init(user: "gateway", password: "api-Passw0rd"), caFile: server.caPath),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: "mgr"), subjects: try Subjects(prefix: "wazuh"),
            signingKey: try SigningKey(bytes: Array(repeating: 5, count: 32)))
        let file = GlobalDatabaseReader(path: directory + "/global.db")
        do {
            let fileBefore = try file.read().snapshot
            let apiBefore = AgentSnapshot(records: try await client.readAllAgents().records)
            #expect(apiBefore == fileBefore)

            simulator.now += 40
            try simulator.apply(.stop(agentID: 12))
            try simulator.apply(.keepaliveTimeout(agentID: 20))
            try simulator.apply(.register)
            try simulator.apply(.remove(agentID: 3))
            simulator.now += 5
            try simulator.apply(.connect(agentID: 12))
            try simulator.commit()

            let fileChanges = ChangeDetector.changes(from: fileBefore, to: try file.read().snapshot)
            let apiAfter = AgentSnapshot(records: try await client.readAllAgents().records)
            let apiChanges = ChangeDetector.changes(from: apiBefore, to: apiAfter)
            #expect(fileChanges.count >= 2)
            #expect(apiChanges == fileChanges)
            let fileIDs = fileChanges.map { encoder.signedEvent(for: $0, detectedAtMilliseconds: 1_000).eventID }
            let apiIDs = apiChanges.map { encoder.signedEvent(for: $0, detectedAtMilliseconds: 9_000).eventID }
            #expect(apiIDs == fileIDs)
            #expect(Set(apiIDs).count == apiIDs.count)
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
        await client.shutdown()
        await server.stop()
    }
}
