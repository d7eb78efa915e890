import Foundation
import NATSClient
import NATSTestSupport
import NIOCore
import Testing

/// Starts `server`, runs `body` (bounded by `limit`), and stops the server whatever happens.
private func withStartedServer<T: Sendable>(
    _ server: NATSServerProcess, within limit: Duration = .seconds(20),
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withNATSServers([server]) { _ in try await withDeadline(limit, "auth test on \(server.url)", body) }
}

/// Connect options without reconnecting, so failures surface at once.
private func options(
    _ server: NATSServerProcess, auth: NATSAuth, tls: NATSTLSOptions? = nil
) -> NATSConnectionOptions {
    NATSConnectionOptions(
        servers: [NATSServerAddress(host: "127.0.0.1", port: server.port, tls: tls != nil)],
        auth: auth, tls: tls, connectTimeout: .seconds(3), reconnect: .disabled)
}

/// Connects, proves the session works with a PING/PONG round trip, and closes.
private func connectRoundTripAndClose(_ options: NATSConnectionOptions) async throws {
    let connection = try await NATSConnection.connect(options: options)
    do {
        try await connection.flush(timeout: .seconds(3))
    } catch {
        await connection.close()
        throw error
    }
    await connection.close()
}

/// Connects expecting failure; returns the error (`nil` if the connect succeeded) and how long it took.
private func connectFailure(_ options: NATSConnectionOptions) async -> (error: NATSError?, elapsed: Duration) {
    let started = ContinuousClock.now
    do {
        try await connectRoundTripAndClose(options)
        return (nil, ContinuousClock.now - started)
    } catch let error as NATSError {
        return (error, ContinuousClock.now - started)
    } catch {
        Issue.record("expected a NATSError, got \(error)")
        return (nil, ContinuousClock.now - started)
    }
}

/// Server configuration admitting exactly one NKey user.
private func nkeyAuthorization(_ user: NKeyPair) -> String {
    "authorization { users = [ { nkey: \(user.publicKey) } ] }\n"
}

@Suite(.timeLimit(.minutes(1)))
struct AuthNKeyIntegrationTests {
    @Test func nkeyAuthenticationSucceedsOnEveryOneOfManyConnects() async throws {
        let user = NKeyPair.generate(.user)
        let server = try NATSServerProcess(extraConfig: nkeyAuthorization(user))
        let connectOptions = options(server, auth: .nkey(user))
        try await withStartedServer(server, within: .seconds(50)) {
            // Each connect signs a fresh server nonce; the C client fails about one in 256 of these.
            for attempt in 0..<300 {
                do {
                    try await connectRoundTripAndClose(connectOptions)
                } catch {
                    Issue.record("connect \(attempt) failed: \(error)")
                    throw error
                }
            }
        }
    }

    @Test func nkeySeedFileAuthenticates() async throws {
        let user = NKeyPair.generate(.user)
        let server = try NATSServerProcess(extraConfig: nkeyAuthorization(user))
        let seedFile = try OperatorIdentities.writeSecret(user.seed + "\n", to: server.directory + "/user.nk")
        try await withStartedServer(server) {
            try await connectRoundTripAndClose(options(server, auth: .nkeySeedFile(seedFile)))
        }
    }

    @Test func unknownNKeyIsRefusedPromptlyAsAuthorizationViolation() async throws {
        let server = try NATSServerProcess(extraConfig: nkeyAuthorization(NKeyPair.generate(.user)))
        let stranger = NKeyPair.generate(.user)
        let (error, elapsed) = try await withStartedServer(server) {
            await connectFailure(options(server, auth: .nkey(stranger)))
        }
        #expect(error?.code == .authorizationViolation)
        #expect(elapsed < .seconds(3))
        #expect(!(error.map { String(reflecting: $0) } ?? "").contains(stranger.seed))
    }

    @Test func nkeyUserIsRefusedWithoutAnyCredentials() async throws {
        let server = try NATSServerProcess(extraConfig: nkeyAuthorization(NKeyPair.generate(.user)))
        let (error, _) = try await withStartedServer(server) {
            await connectFailure(options(server, auth: .none))
        }
        #expect(error?.code == .authorizationViolation)
    }

    @Test func seedFileReadableByOthersIsRefusedBeforeConnecting() async throws {
        let user = NKeyPair.generate(.user)
        let server = try NATSServerProcess(extraConfig: nkeyAuthorization(user))
        let seedFile = try OperatorIdentities.writeSecret(user.seed, to: server.directory + "/user.nk", mode: 0o644)
        let (error, _) = try await withStartedServer(server) {
            await connectFailure(options(server, auth: .nkeySeedFile(seedFile)))
        }
        #expect(error?.code == .authenticationSetup)
        #expect((error?.underlying as? NATSAuthError)?.code == .insecurePermissions)
        #expect(!(error.map { String(reflecting: $0) } ?? "").contains(user.seed))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct AuthOperatorModeIntegrationTests {
    @Test func credentialsFileConnectsInOperatorModeAndJetStreamAcknowledgesPublishes() async throws {
        let identities = try OperatorIdentities()
        let server = try NATSServerProcess(jetStream: true, extraConfig: identities.serverConfig)
        let credentialsFile = try identities.writeCredentials(in: server.directory)
        let (first, resent) = try await withStartedServer(server) {
            let connection = try await NATSConnection.connect(
                options: options(server, auth: .credentialsFile(credentialsFile)))
            do {
                let jetStream = connection.jetStream()
                _ = try await jetStream.createStream(StreamConfig(name: "AUTH", subjects: ["auth.>"]))
                let first = try await jetStream.publish(
                    subject: "auth.test", payload: ByteBuffer(string: "hello"), messageID: "auth-1")
                let resent = try await jetStream.publish(
                    subject: "auth.test", payload: ByteBuffer(string: "hello"), messageID: "auth-1")
                await connection.close()
                return (first, resent)
            } catch {
                await connection.close()
                throw error
            }
        }
        #expect(first == PubAck(stream: "AUTH", seq: 1, duplicate: false))
        #expect(resent == PubAck(stream: "AUTH", seq: 1, duplicate: true))
    }

    @Test func inMemoryCredentialsOfASecondUserConnectRepeatedly() async throws {
        let identities = try OperatorIdentities()
        let server = try NATSServerProcess(jetStream: true, extraConfig: identities.serverConfig)
        let credentials = try NATSCredentials.parse(try identities.makeUser(name: "second").credentialsText)
        try await withStartedServer(server) {
            for _ in 0..<20 {
                try await connectRoundTripAndClose(options(server, auth: .credentials(credentials)))
            }
        }
    }

    @Test func userOfAnAccountTheServerDoesNotKnowIsRefused() async throws {
        let identities = try OperatorIdentities()
        let server = try NATSServerProcess(jetStream: true, extraConfig: identities.serverConfig)
        let user = NKeyPair.generate(.user)
        let jwt = try NATSJWT.userJWT(
            name: "intruder", userPublicKey: user.publicKey, accountKey: NKeyPair.generate(.account))
        let (error, elapsed) = try await withStartedServer(server) {
            await connectFailure(options(server, auth: .credentials(NATSCredentials(jwt: jwt, keyPair: user))))
        }
        #expect(error?.code == .authorizationViolation)
        #expect(elapsed < .seconds(3))
    }

    @Test func validJWTWithAnotherUsersKeyIsRefused() async throws {
        let identities = try OperatorIdentities()
        let server = try NATSServerProcess(jetStream: true, extraConfig: identities.serverConfig)
        let impostor = NATSCredentials(jwt: identities.userJWT, keyPair: NKeyPair.generate(.user))
        let (error, _) = try await withStartedServer(server) {
            await connectFailure(options(server, auth: .credentials(impostor)))
        }
        #expect(error?.code == .authorizationViolation)
    }

    @Test func credentialsFileReadableByGroupIsRefusedNamingThePath() async throws {
        let identities = try OperatorIdentities()
        let server = try NATSServerProcess(jetStream: true, extraConfig: identities.serverConfig)
        let path = try OperatorIdentities.writeSecret(
            NATSCredentials.format(jwt: identities.userJWT, seed: identities.user.seed),
            to: server.directory + "/open.creds", mode: 0o640)
        let (error, _) = try await withStartedServer(server) {
            await connectFailure(options(server, auth: .credentialsFile(path)))
        }
        #expect(error?.code == .authenticationSetup)
        let authError = error?.underlying as? NATSAuthError
        #expect(authError?.code == .insecurePermissions)
        #expect(authError?.path == path)
        #expect(authError?.mode.map { $0 & 0o777 } == 0o640)
        #expect(!(error.map { String(reflecting: $0) } ?? "").contains(identities.user.seed))
    }
}

@Suite(.timeLimit(.minutes(1)))
struct AuthMutualTLSIntegrationTests {
    /// A server requiring client certificates signed by the CA of `certificates`.
    private static func mutualTLSServer(
        _ certificates: TestCertificates, extraConfig: String = ""
    ) throws -> NATSServerProcess {
        try NATSServerProcess(
            tls: NATSServerProcess.TLS(
                certificatePath: certificates.serverCertificatePath, keyPath: certificates.serverKeyPath,
                caPath: certificates.caCertificatePath, verifyClients: true),
            extraConfig: extraConfig)
    }

    /// Fresh certificates in a temporary directory removed after `body`.
    private static func withCertificates<T>(_ body: (TestCertificates) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory(prefix: "auth-mtls")
        return try await body(try TestCertificates.generate(in: directory.path))
    }

    @Test func clientWithCertificateConnects() async throws {
        try await Self.withCertificates { certificates in
            let server = try Self.mutualTLSServer(certificates)
            let tls = NATSTLSOptions(
                caCertificatePath: certificates.caCertificatePath,
                clientCertificatePath: certificates.clientCertificatePath, clientKeyPath: certificates.clientKeyPath)
            try await withStartedServer(server) {
                for _ in 0..<5 {
                    try await connectRoundTripAndClose(options(server, auth: .none, tls: tls))
                }
            }
        }
    }

    @Test func clientWithoutCertificateFailsPromptlyWithATypedError() async throws {
        try await Self.withCertificates { certificates in
            let server = try Self.mutualTLSServer(certificates)
            let tls = NATSTLSOptions(caCertificatePath: certificates.caCertificatePath)
            let (error, elapsed) = try await withStartedServer(server) {
                await connectFailure(options(server, auth: .none, tls: tls))
            }
            // The server rejects the handshake with a bad_certificate alert.
            #expect(error?.code == .tlsFailure)
            #expect(elapsed < .seconds(4))
        }
    }

    @Test func clientCertificateFromAnotherCAIsRefused() async throws {
        try await Self.withCertificates { certificates in
            try await Self.withCertificates { other in
                let server = try Self.mutualTLSServer(certificates)
                let tls = NATSTLSOptions(
                    caCertificatePath: certificates.caCertificatePath,
                    clientCertificatePath: other.clientCertificatePath, clientKeyPath: other.clientKeyPath)
                let (error, elapsed) = try await withStartedServer(server) {
                    await connectFailure(options(server, auth: .none, tls: tls))
                }
                #expect(error?.code == .tlsFailure)
                #expect(elapsed < .seconds(4))
            }
        }
    }

    @Test func serverCertificateFromAnUntrustedCAIsRefused() async throws {
        try await Self.withCertificates { certificates in
            try await Self.withCertificates { other in
                let server = try Self.mutualTLSServer(certificates)
                let tls = NATSTLSOptions(
                    caCertificatePath: other.caCertificatePath,
                    clientCertificatePath: certificates.clientCertificatePath, clientKeyPath: certificates.clientKeyPath
                )
                let (error, _) = try await withStartedServer(server) {
                    await connectFailure(options(server, auth: .none, tls: tls))
                }
                #expect(error?.code == .tlsFailure)
            }
        }
    }

    @Test func mutualTLSAndNKeyTogether() async throws {
        try await Self.withCertificates { certificates in
            let user = NKeyPair.generate(.user)
            let server = try Self.mutualTLSServer(certificates, extraConfig: nkeyAuthorization(user))
            let tls = NATSTLSOptions(
                caCertificatePath: certificates.caCertificatePath,
                clientCertificatePath: certificates.clientCertificatePath, clientKeyPath: certificates.clientKeyPath)
            try await withStartedServer(server) {
                for _ in 0..<20 {
                    try await connectRoundTripAndClose(options(server, auth: .nkey(user), tls: tls))
                }
                let (error, _) = await connectFailure(options(server, auth: .nkey(NKeyPair.generate(.user)), tls: tls))
                #expect(error?.code == .authorizationViolation)
            }
        }
    }
}
