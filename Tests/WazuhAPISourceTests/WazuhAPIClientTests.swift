import Foundation
import Testing
import WazuhAPISource
import WazuhSimulator
import WazuhSource

/// The client against the simulator's real HTTPS API: login, renewal, refusals, throttling, TLS.
@Suite struct WazuhAPIClientTests {
    @Test func readsEveryAgentWithTheFileSourcesMapping() async throws {
        try await SimulatedAPIFixture.run(agents: 50) { simulator, server in
            try await SimulatedAPIFixture.withClient(server) { client in
                let read = try await client.readAllAgents()
                let file = try GlobalDatabaseReader(path: simulator.configuration.databasePath).read().snapshot
                #expect(AgentSnapshot(records: read.records) == file)
                #expect(client.statistics.authentications == 1)
            }
        }
    }

    @Test func renewsTheTokenBeforeItExpires() async throws {
        try await SimulatedAPIFixture.run(
            agents: 5, server: { $0.tokenLifetime = .seconds(2) },
            body: { _, server in
                try await SimulatedAPIFixture.withClient(
                    server, adjust: { $0.tokenLifetime = .seconds(2) },
                    body: { client in
                        _ = try await client.readAllAgents()
                        let renewed = try await waitUntil(timeout: .seconds(60)) {
                            _ = try await client.readAllAgents()
                            return client.statistics.authentications >= 3
                        }
                        #expect(renewed)
                        // Renewed in time: the server never had to refuse an expired token.
                        #expect(client.statistics.tokenRefusals == 0)
                    })
            })
    }

    @Test func aRevokedTokenIsReplacedOnce() async throws {
        try await SimulatedAPIFixture.run(agents: 5) { _, server in
            try await SimulatedAPIFixture.withClient(server) { client in
                _ = try await client.readAllAgents()
                server.revokeTokens()
                let read = try await client.readAllAgents()
                #expect(read.records.count == 5)
                #expect(client.statistics.tokenRefusals == 1)
                #expect(client.statistics.authentications == 2)
            }
        }
    }

    @Test func aWrongPasswordFailsClearlyWithoutTheSecret() async throws {
        try await SimulatedAPIFixture.run(agents: 5) { _, server in
            try await SimulatedAPIFixture.withClient(server, password: "wrong-Passw0rd-42") { client in
                do {
                    _ = try await client.readAllAgents()
                    Issue.record("a wrong password was accepted")
                } catch let error as WazuhAPIError {
                    #expect(error.code == .badCredentials)
                    #expect(error.sourceError.code == .apiAuthenticationFailed)
                    for text in ["\(error)", String(reflecting: error), "\(error.sourceError)", "\(client)"] {
                        #expect(!text.contains("wrong-Passw0rd-42"))
                        #expect(!text.contains(SimulatedAPIFixture.password))
                    }
                    #expect("\(error)".contains("gateway"))
                }
                #expect(client.statistics.authentications == 1)
            }
        }
    }

    @Test func aThrottledClientWaitsAndThenSucceeds() async throws {
        try await SimulatedAPIFixture.run(
            agents: 5,
            server: {
                $0.requestsPerMinute = 2
                $0.rateWindow = .seconds(2)
            },
            body: { _, server in
                try await SimulatedAPIFixture.withClient(server) { client in
                    for _ in 0..<3 {
                        let count = try await client.readAllAgents().records.count
                        #expect(count == 5)
                    }
                    #expect(client.statistics.rateLimited >= 1)
                    #expect(server.rateLimited == client.statistics.rateLimited)
                }
            })
    }

    @Test func theClientsOwnBudgetKeepsItUnderTheServersLimit() async throws {
        try await SimulatedAPIFixture.run(
            agents: 5,
            server: {
                $0.requestsPerMinute = 12
                $0.rateWindow = .seconds(60)
            },
            body: { _, server in
                try await SimulatedAPIFixture.withClient(
                    server, adjust: { $0.requestsPerMinute = 12 },
                    body: { client in
                        for _ in 0..<3 { _ = try await client.readAllAgents() }
                        #expect(server.rateLimited == 0)
                        #expect(client.statistics.requests == 4)
                    })
            })
    }

    @Test func aServerSignedByAnotherCAIsRefused() async throws {
        let other = try TemporaryDirectory(prefix: "other-ca")
        try await SimulatedAPIFixture.run(agents: 5) { simulator, server in
            let stranger = try simulator.makeAPIServer(configuration: .init(directory: other.path))
            try await SimulatedAPIFixture.withClient(
                server, caFile: stranger.caPath, adjust: { $0.requestTimeout = .seconds(10) },
                body: { client in
                    do {
                        _ = try await client.readAllAgents()
                        Issue.record("an untrusted certificate was accepted")
                    } catch let error as WazuhAPIError {
                        #expect(error.code == .tlsFailure)
                        #expect(client.statistics.authentications == 0)
                    }
                })
        }
    }

    @Test func pagingReadsEachOfAHundredThousandAgentsOnce() async throws {
        try await SimulatedAPIFixture.run(agents: 100_000) { simulator, server in
            try await SimulatedAPIFixture.withClient(
                server, adjust: { $0.pageSize = 10_000 },
                body: { client in
                    let read = try await client.readAllAgents()
                    #expect(read.records.count == 100_000)
                    #expect(read.records.map(\.id) == simulator.agentIDs)
                    // 100 000 agents plus agent 000 in pages of 10 000.
                    #expect(read.pages == 11)
                })
        }
    }
}
