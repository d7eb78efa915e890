import NATSClient
import NATSTestSupport
import NIOCore
import Testing

@Suite(.timeLimit(.minutes(2)))
struct TLSIntegrationTests {
    /// Runs `body` with a TLS server whose certificates (in a temporary directory) are made for `serverNames`.
    private func withTLSServer<T>(
        serverNames: [String] = ["localhost", "127.0.0.1"],
        verifyClients: Bool = false,
        _ body: (NATSServerProcess, TestCertificates) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory(prefix: "nats-tls")
        let certificates = try await TestCertificates.generate(in: directory.path, serverNames: serverNames)
        let tls = NATSServerProcess.TLS(
            certificatePath: certificates.serverCertificatePath, keyPath: certificates.serverKeyPath,
            caPath: certificates.caCertificatePath, verifyClients: verifyClients)
        return try await withNATSServer(tls: tls) { server in try await body(server, certificates) }
    }

    private func options(_ server: NATSServerProcess, _ tls: NATSTLSOptions) throws -> NATSConnectionOptions {
        var options = try NATSConnectionOptions(url: server.url, tls: tls)
        options.connectTimeout = .seconds(30)
        options.reconnect = .disabled
        return options
    }

    @Test func connectsOverTLSWithTheGeneratedCA() async throws {
        try await self.withTLSServer { server, certificates in
            let connection = try await NATSConnection.connect(
                options: try self.options(server, NATSTLSOptions(caCertificatePath: certificates.caCertificatePath)))
            #expect(connection.serverInfo?.tlsRequired == true)
            let subscription = try await connection.subscribe(subject: "secure")
            try await connection.flush()
            try await connection.publish(subject: "secure", payload: ByteBuffer(string: "sealed"))
            #expect(try await collect(subscription, count: 1).first?.payload.text == "sealed")
            await connection.close()
            await server.stop()
        }
    }

    @Test func verifiesAgainstAConfiguredServerName() async throws {
        try await self.withTLSServer(serverNames: ["localhost"]) { server, certificates in
            let connection = try await NATSConnection.connect(
                options: try self.options(
                    server, NATSTLSOptions(caCertificatePath: certificates.caCertificatePath, serverName: "localhost")))
            #expect(connection.serverInfo?.tlsRequired == true)
            let subscription = try await connection.subscribe(subject: "named")
            try await connection.flush()
            try await connection.publish(subject: "named", payload: ByteBuffer(string: "verified"))
            #expect(try await collect(subscription, count: 1).first?.payload.text == "verified")
            await connection.close()
            // The configured name is what is verified: the same server, asked for a name its certificate
            // does not carry, is refused.
            let error = try await #require(throws: NATSError.self) {
                _ = try await NATSConnection.connect(
                    options: try self.options(
                        server,
                        NATSTLSOptions(caCertificatePath: certificates.caCertificatePath, serverName: "other.invalid")))
            }
            #expect(error.code == .tlsFailure)
            await server.stop()
        }
    }

    @Test func untrustedCAFailsPromptlyWithTLSError() async throws {
        try await self.withTLSServer { server, _ in
            let otherDirectory = try TemporaryDirectory(prefix: "nats-other-ca")
            let other = try await TestCertificates.generate(in: otherDirectory.path)
            let start = ContinuousClock.now
            let error = try await #require(throws: NATSError.self) {
                _ = try await NATSConnection.connect(
                    options: try self.options(server, NATSTLSOptions(caCertificatePath: other.caCertificatePath)))
            }
            #expect(error.code == .tlsFailure)
            #expect(ContinuousClock.now - start < .seconds(10), "must fail on the TLS error, not the 30 s timeout")
            await server.stop()
        }
    }

    @Test func wrongHostNameFailsPromptlyWithTLSError() async throws {
        try await self.withTLSServer(serverNames: ["other.invalid"]) { server, certificates in
            let start = ContinuousClock.now
            let error = try await #require(throws: NATSError.self) {
                _ = try await NATSConnection.connect(
                    options: try self.options(server, NATSTLSOptions(caCertificatePath: certificates.caCertificatePath))
                )
            }
            #expect(error.code == .tlsFailure)
            let named = try await #require(throws: NATSError.self) {
                _ = try await NATSConnection.connect(
                    options: try self.options(
                        server,
                        NATSTLSOptions(caCertificatePath: certificates.caCertificatePath, serverName: "localhost")))
            }
            #expect(named.code == .tlsFailure)
            #expect(ContinuousClock.now - start < .seconds(10), "must fail on the TLS error, not the 30 s timeout")
            await server.stop()
        }
    }

    @Test func mutualTLSNeedsTheClientCertificate() async throws {
        try await self.withTLSServer(verifyClients: true) { server, certificates in
            let connection = try await NATSConnection.connect(
                options: try self.options(
                    server,
                    NATSTLSOptions(
                        caCertificatePath: certificates.caCertificatePath,
                        clientCertificatePath: certificates.clientCertificatePath,
                        clientKeyPath: certificates.clientKeyPath)))
            try await connection.flush()
            await connection.close()
            let start = ContinuousClock.now
            await #expect(throws: NATSError.self) {
                _ = try await NATSConnection.connect(
                    options: try self.options(server, NATSTLSOptions(caCertificatePath: certificates.caCertificatePath))
                )
            }
            #expect(ContinuousClock.now - start < .seconds(5), "must fail on the TLS error, not the 10 s timeout")
            await server.stop()
        }
    }

    @Test func tlsClientAgainstPlainServerFailsWithTLSError() async throws {
        try await withNATSServer { server in
            var options = try NATSConnectionOptions(url: "tls://127.0.0.1:\(server.port)")
            options.connectTimeout = .seconds(30)
            let error = try await #require(throws: NATSError.self) {
                _ = try await NATSConnection.connect(options: options)
            }
            #expect(error.code == .tlsFailure)
            await server.stop()
        }
    }
}
