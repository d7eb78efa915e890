import Testing

@testable import NATSClient

struct OptionsTests {
    @Test func parsesCommaSeparatedServerList() throws {
        let servers = try NATSServerAddress.parseList("nats://h:4222, tls://u:p%40ss@h2:4223,h3")
        #expect(servers.count == 3)
        #expect(servers[0] == NATSServerAddress(host: "h", port: 4222, tls: false))
        #expect(servers[1].host == "h2" && servers[1].port == 4223 && servers[1].tls)
        #expect(servers[1].user == "u" && servers[1].password == "p@ss")
        #expect(servers[2].host == "h3" && servers[2].port == 4222)
    }

    @Test func descriptionHidesURLCredentials() throws {
        let server = try NATSServerAddress.parse("nats://user:secret@127.0.0.1:4222")
        #expect(server.description == "nats://127.0.0.1:4222")
        #expect(!"\(server)".contains("secret"))
    }

    @Test func rejectsInvalidURLs() {
        for text in ["", "http://h:1", "nats://:4222", "nats://h:0", "nats://h:99999", "nats://h:abc"] {
            #expect(throws: NATSError.self, "\(text)") { try NATSServerAddress.parseList(text) }
        }
    }

    @Test func parsesIPv6Literal() throws {
        let server = try NATSServerAddress.parse("nats://[::1]:4333")
        #expect(server.host == "::1" && server.port == 4333)
    }

    @Test func backoffBoundGrowsExponentiallyUpToTheCap() {
        let policy = NATSReconnectPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(2))
        #expect(policy.bound(forAttempt: 0) == .milliseconds(100))
        #expect(policy.bound(forAttempt: 1) == .milliseconds(200))
        #expect(policy.bound(forAttempt: 4) == .milliseconds(1600))
        #expect(policy.bound(forAttempt: 5) == .seconds(2))
        #expect(policy.bound(forAttempt: 1000) == .seconds(2))
    }

    @Test func fullJitterStaysWithinBoundsAndSpreads() {
        let policy = NATSReconnectPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(2))
        var generator = SystemRandomNumberGenerator()
        for attempt in 0..<8 {
            var seen = Set<Duration>()
            for _ in 0..<200 {
                let delay = policy.delay(forAttempt: attempt, using: &generator)
                #expect(delay >= .zero && delay <= policy.bound(forAttempt: attempt))
                seen.insert(delay)
            }
            #expect(seen.count > 50, "jitter should spread delays")
        }
    }

    @Test func errorDescriptionNamesTheCodeButNoSecret() {
        let error = NATSError(.authorizationViolation, "server rejected the credentials")
        #expect("\(error)".contains("authorizationViolation"))
    }
}
