import Foundation
import NATSClient
import NATSTestSupport
import Testing

@testable import Gateway

struct ConfigurationNATSOptionsTests {
    @Test func optionsCarryServersTimeoutsAndReconnectPolicy() throws {
        let yaml =
            minimalYAML.replacingOccurrences(
                of: "nats:\n",
                with:
                    "nats:\n  max_reconnects: -1\n  reconnect_delay: 3s\n  request_timeout: 7s\n  ping_interval: 20s\n"
            )
            .replacingOccurrences(of: "nats://127.0.0.1:4222", with: "nats://127.0.0.1:4222,tls://127.0.0.1:4223")
        let options = try GatewayConfiguration.load(yaml: yaml, environment: [:]).natsConnectionOptions()
        #expect(options.servers.map(\.description).count == 2)
        #expect(options.servers.map(\.port) == [4222, 4223])
        #expect(options.servers.map(\.tls) == [false, true])
        #expect(options.requestTimeout == .seconds(7))
        #expect(options.pingInterval == .seconds(20))
        #expect(
            options.reconnect == NATSReconnectPolicy(maxAttempts: nil, baseDelay: .seconds(3), maxDelay: .seconds(3)))
        #expect(options.name == "wazuh-nats-gateway/node-1")
        #expect(options.tls == nil)
        guard case .none = options.auth else {
            Issue.record("expected no authentication")
            return
        }
    }

    @Test func zeroReconnectsDisablesReconnecting() throws {
        let yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  max_reconnects: 0\n")
        let options = try GatewayConfiguration.load(yaml: yaml, environment: [:]).natsConnectionOptions()
        #expect(options.reconnect == .disabled)
    }

    @Test func tokenComesFromItsFile() throws {
        let directory = try TemporaryDirectory()
        let tokenFile = try directory.write("token", "tok-from-file\n")
        let yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  token_file: \"\(tokenFile)\"\n")
        let options = try GatewayConfiguration.load(yaml: yaml, environment: [:]).natsConnectionOptions()
        guard case .token(let token) = options.auth else {
            Issue.record("expected token authentication")
            return
        }
        #expect(token == "tok-from-file")
    }

    @Test func passwordComesFromTheEnvironmentAndTLSFilesArePassedOn() throws {
        let yaml = minimalYAML.replacingOccurrences(
            of: "nats:\n", with: "nats:\n  user: gw\n  tls_cert: /c.pem\n  tls_key: /k.pem\n  tls_ca: /ca.pem\n")
        let configuration = try GatewayConfiguration.load(
            yaml: yaml, environment: ["WAZUH_NATS_GATEWAY_NATS_PASSWORD": "pw-env"])
        let options = try configuration.natsConnectionOptions()
        guard case .userPassword(let user, let password) = options.auth else {
            Issue.record("expected user/password authentication")
            return
        }
        #expect(user == "gw")
        #expect(password == "pw-env")
        #expect(options.tls?.clientCertificatePath == "/c.pem")
        #expect(options.tls?.clientKeyPath == "/k.pem")
        #expect(options.tls?.caCertificatePath == "/ca.pem")
    }

    @Test func credentialsFileSelectsJWTAuthentication() throws {
        let yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  credentials_file: /x.creds\n")
        let options = try GatewayConfiguration.load(yaml: yaml, environment: [:]).natsConnectionOptions()
        guard case .credentialsFile(let path) = options.auth else {
            Issue.record("expected credentials-file authentication")
            return
        }
        #expect(path == "/x.creds")
    }
}

/// The options built from a configuration log in to a real nats-server.
@Suite(.timeLimit(.minutes(1)))
struct ConfigurationNATSLoginTests {
    @Test func passwordFileConfigurationLogsInToARealServer() async throws {
        try await withNATSServer(extraConfig: "authorization {\n  user: gw\n  password: \"pw-real\"\n}") { server in
            let directory = try TemporaryDirectory()
            let passwordFile = try directory.write("password", "pw-real\n")
            let yaml = minimalYAML.replacingOccurrences(
                of: "nats://127.0.0.1:4222", with: server.url
            ).replacingOccurrences(of: "nats:\n", with: "nats:\n  user: gw\n  password_file: \"\(passwordFile)\"\n")
            var options = try GatewayConfiguration.load(yaml: yaml, environment: [:]).natsConnectionOptions()
            options.connectTimeout = .seconds(3)
            do {
                let connection = try await NATSConnection.connect(options: options)
                try await connection.flush()
                await connection.close()
            } catch {
                Issue.record("login failed: \(error)")
            }
            await server.stop()
        }
    }
}
