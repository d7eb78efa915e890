import Foundation
import NATSClient
import Testing

@testable import Gateway

struct ConfigurationValidationTests {
    private static let key32 = Data(repeating: 7, count: 32).base64EncodedString() + "\n"

    /// A configuration whose every referenced file exists with safe permissions.
    private func validSetup(in directory: borrowing TemporaryDirectory) throws -> GatewayConfiguration {
        try directory.write("ossec/queue/db/global.db", "", mode: 0o644)
        try directory.write("signing.key", Self.key32)
        try directory.write("encryption.key", Self.key32)
        let yaml = """
            wazuh:
              install_root: "\(directory.path)/ossec"
              manager_node: node-1
            nats:
              url: nats://127.0.0.1:4222
            security:
              signing_key_path: "\(directory.path)/signing.key"
              encrypt_messages: true
              encryption_key_path: "\(directory.path)/encryption.key"
            outbox:
              path: "\(directory.path)/state/outbox.db"
            """
        return try GatewayConfiguration.load(yaml: yaml, environment: [:])
    }

    private func problems(_ configuration: GatewayConfiguration) -> [ConfigurationError] {
        do {
            try configuration.validate()
            return []
        } catch let errors as ConfigurationErrors {
            return errors.errors
        } catch {
            Issue.record("unexpected error \(error)")
            return []
        }
    }

    @Test func completeSetupValidates() throws {
        let directory = try TemporaryDirectory()
        let configuration = try self.validSetup(in: directory)
        #expect(self.problems(configuration).isEmpty)
    }

    @Test func keyFileReadableByOthersIsRefused() throws {
        let directory = try TemporaryDirectory()
        let configuration = try self.validSetup(in: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.path + "/signing.key")
        let problems = self.problems(configuration)
        #expect(problems.count == 1)
        #expect(problems.first?.code == .fileProblem)
        #expect(
            problems.first?.description
                == "line 7, column 21: security.signing_key_path: file \(directory.path)/signing.key has mode 0644; a secret file must not be readable or writable by group or others (chmod 600 \(directory.path)/signing.key)"
        )
    }

    @Test func missingFilesAreAllListed() throws {
        let directory = try TemporaryDirectory()
        let configuration = try self.validSetup(in: directory)
        try FileManager.default.removeItem(atPath: directory.path + "/signing.key")
        try FileManager.default.removeItem(atPath: directory.path + "/encryption.key")
        try FileManager.default.removeItem(atPath: directory.path + "/ossec/queue/db/global.db")
        let keys = Set(self.problems(configuration).compactMap(\.keyPath))
        #expect(keys == ["security.signing_key_path", "security.encryption_key_path", "wazuh.db_path"])
    }

    @Test func shortEncryptionKeyIsRefusedWithoutShowingIt() throws {
        let directory = try TemporaryDirectory()
        let configuration = try self.validSetup(in: directory)
        let short = Data(repeating: 9, count: 16).base64EncodedString()
        try directory.write("encryption.key", short)
        let problems = self.problems(configuration)
        #expect(
            problems.map(\.message) == [
                "key file \(directory.path)/encryption.key: encryption key has 16 bytes, exactly 32 required (AES-256)"
            ])
        #expect(!problems.map(\.description).joined().contains(short))
    }

    @Test func nonBase64KeyIsRefused() throws {
        let directory = try TemporaryDirectory()
        let configuration = try self.validSetup(in: directory)
        try directory.write("signing.key", "not base64 at all!")
        #expect(
            self.problems(configuration).first?.message.hasPrefix(
                "key file \(directory.path)/signing.key does not hold standard base64")
                == true)
    }

    @Test func tlsAndCredentialFilesAreChecked() throws {
        let directory = try TemporaryDirectory()
        var configuration = try self.validSetup(in: directory)
        configuration.nats.tlsCert = try directory.write(
            "client.crt", "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n", mode: 0o644)
        configuration.nats.tlsKey = try directory.write(
            "client.key", "-----BEGIN PRIVATE KEY-----\nAA==\n", mode: 0o640)
        configuration.nats.tlsCA = try directory.write("ca.crt", "garbage", mode: 0o644)
        let problems = self.problems(configuration)
        #expect(Set(problems.compactMap(\.keyPath)) == ["nats.tls_key", "nats.tls_ca"])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.path + "/client.key")
        configuration.nats.tlsCA = configuration.nats.tlsCert
        #expect(self.problems(configuration).isEmpty)
    }

    @Test func natsCredentialsFileIsParsedByTheNATSClientLoader() throws {
        let directory = try TemporaryDirectory()
        var configuration = try self.validSetup(in: directory)
        configuration.nats.credentialsFile = try directory.write("nats.creds", "-----BEGIN NATS USER JWT-----\nx\n")
        let problems = self.problems(configuration)
        #expect(problems.map(\.keyPath) == ["nats.credentials_file"])
        #expect(problems.first?.code == .fileProblem)

        let account = NKeyPair.generate(.account)
        let user = NKeyPair.generate(.user)
        let jwt = try NATSJWT.userJWT(name: "gateway", userPublicKey: user.publicKey, accountKey: account)
        try directory.write("nats.creds", NATSCredentials.format(jwt: jwt, seed: user.seed))
        #expect(self.problems(configuration).isEmpty)
        #expect(!ConfigurationErrors(problems).description.contains(user.seed))
    }

    @Test func nkeySeedFileMustHoldAUserSeed() throws {
        let directory = try TemporaryDirectory()
        var configuration = try self.validSetup(in: directory)
        let account = NKeyPair.generate(.account)
        configuration.nats.nkeySeedFile = try directory.write("seed.nk", account.seed + "\n")
        let problems = self.problems(configuration)
        #expect(problems.map(\.keyPath) == ["nats.nkey_seed_file"])
        #expect(!problems.map(\.description).joined().contains(account.seed))
        try directory.write("seed.nk", NKeyPair.generate(.user).seed + "\n")
        #expect(self.problems(configuration).isEmpty)
    }

    @Test func passwordFileIsReadAndItsModeChecked() throws {
        let directory = try TemporaryDirectory()
        var configuration = try self.validSetup(in: directory)
        configuration.nats.user = "gateway"
        configuration.nats.passwordFile = try directory.write("password", "pw-from-file\n")
        #expect(self.problems(configuration).isEmpty)
        #expect(try configuration.nats.loadPassword()?.revealed == "pw-from-file")
        try FileManager.default.setAttributes([.posixPermissions: 0o604], ofItemAtPath: directory.path + "/password")
        #expect(self.problems(configuration).map(\.keyPath) == ["nats.password_file"])
        #expect(throws: ConfigurationErrors.self) { try configuration.nats.loadPassword() }
    }

    @Test func outboxInAnUnwritableLocationIsRefused() throws {
        let directory = try TemporaryDirectory()
        var configuration = try self.validSetup(in: directory)
        try directory.write("plain-file", "x", mode: 0o644)
        configuration.outbox.path = directory.path + "/plain-file/outbox.db"
        #expect(self.problems(configuration).map(\.keyPath) == ["outbox.path"])
    }

    @Test func combinationRulesAlsoApplyToConfigurationsBuiltInCode() throws {
        let directory = try TemporaryDirectory()
        var configuration = try self.validSetup(in: directory)
        configuration.delivery.maxInFlight = 0
        configuration.security.encryptionKeyPath = nil
        #expect(
            Set(self.problems(configuration).compactMap(\.keyPath))
                == ["security.encryption_key_path", "delivery.max_in_flight"])
    }
}
