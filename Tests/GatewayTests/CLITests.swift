import Foundation
import Testing

@testable import Gateway
@testable import GatewayCommands

struct CLITests {
    private static let key32 = Data(repeating: 3, count: 32).base64EncodedString() + "\n"

    private func writeValidConfiguration(in directory: borrowing TemporaryDirectory) throws -> String {
        try directory.write("global.db", "", mode: 0o644)
        try directory.write("signing.key", Self.key32)
        return try directory.write(
            "gateway.yaml",
            """
            wazuh:
              db_path: "\(directory.path)/global.db"
              manager_node: node-1
            nats:
              url: nats://127.0.0.1:4222
              user: gateway
              password: "pw-secret-in-yaml"
            security:
              signing_key_path: "\(directory.path)/signing.key"
            outbox:
              path: "\(directory.path)/outbox.db"
            """, mode: 0o600)
    }

    @Test func checkConfigPrintsTheRedactedEffectiveConfiguration() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeValidConfiguration(in: directory)
        let outcome = ConfigurationCheck.run(configPath: path, environment: [:])
        #expect(outcome.exitCode == 0)
        #expect(outcome.standardError.isEmpty)
        #expect(outcome.standardOutput.contains("  manager_node: \"node-1\"\n"))
        #expect(outcome.standardOutput.contains("  password: \"<redacted>\"\n"))
        #expect(!outcome.standardOutput.contains("pw-secret-in-yaml"))
    }

    @Test func checkConfigListsEveryProblemAndFails() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeValidConfiguration(in: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: directory.path + "/signing.key")
        try FileManager.default.removeItem(atPath: directory.path + "/global.db")
        let outcome = ConfigurationCheck.run(configPath: path, environment: [:])
        #expect(outcome.exitCode == 1)
        #expect(outcome.standardOutput.isEmpty)
        #expect(outcome.standardError.hasPrefix("configuration \(path) has 2 problems:\n"))
        #expect(outcome.standardError.contains("wazuh.db_path: file \(directory.path)/global.db does not exist"))
        #expect(
            outcome.standardError.contains(
                "security.signing_key_path: file \(directory.path)/signing.key has mode 0644"))
    }

    @Test func inlinePasswordInAReadableFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeValidConfiguration(in: directory)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let outcome = ConfigurationCheck.run(configPath: path, environment: [:])
        #expect(outcome.exitCode == 1)
        #expect(outcome.standardError.contains("nats.password: is set inline in \(path), which has mode 0644"))
        #expect(!outcome.standardError.contains("pw-secret-in-yaml"))
        // From the environment instead, the readable file is fine.
        try directory.write(
            "env.yaml",
            try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
                of: "  password: \"pw-secret-in-yaml\"\n", with: ""), mode: 0o644)
        let fromEnvironment = ConfigurationCheck.run(
            configPath: directory.path + "/env.yaml", environment: ["WAZUH_NATS_GATEWAY_NATS_PASSWORD": "pw"])
        #expect(fromEnvironment.exitCode == 0, "\(fromEnvironment.standardError)")
    }

    @Test func checkConfigReportsLoadErrorsWithTheFileName() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("bad.yaml", "wazuh:\n  manager_nod: x\n")
        let outcome = ConfigurationCheck.run(configPath: path, environment: [:])
        #expect(outcome.exitCode == 1)
        #expect(outcome.standardError.contains("wazuh.manager_nod: unknown key; did you mean 'manager_node'?"))
        #expect(outcome.standardError.contains("nats.url: required key is missing"))
    }

    @Test func checkConfigOfAMissingFileFails() {
        let outcome = ConfigurationCheck.run(configPath: "/nonexistent/gateway.yaml", environment: [:])
        #expect(outcome.exitCode == 1)
        #expect(outcome.standardError.contains("cannot read the file"))
    }

    @Test func keygenWritesABase64KeyWithMode0600() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/signing.key"
        try KeyGenerator.generate(at: path, byteCount: 48)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines))?.count == 48)
    }

    @Test func keygenRefusesToOverwriteWithoutForce() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/k"
        try KeyGenerator.generate(at: path)
        let first = try String(contentsOfFile: path, encoding: .utf8)
        #expect {
            try KeyGenerator.generate(at: path)
        } throws: { error in
            (error as? KeyGenerator.Error)?.code == .fileExists
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == first)
        try KeyGenerator.generate(at: path, overwrite: true)
        let second = try String(contentsOfFile: path, encoding: .utf8)
        #expect(second != first)
        #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(leftovers == ["k"])
    }

    @Test func keygenRefusesSizesNoKeyAccepts() throws {
        let directory = try TemporaryDirectory()
        #expect {
            try KeyGenerator.generate(at: directory.path + "/k", byteCount: 16)
        } throws: { error in
            (error as? KeyGenerator.Error)?.code == .invalidByteCount
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/k"))
    }

    @Test func generatedKeysPassValidation() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeValidConfiguration(in: directory)
        try KeyGenerator.generate(at: directory.path + "/signing.key", overwrite: true)
        #expect(ConfigurationCheck.run(configPath: path, environment: [:]).exitCode == 0)
    }

    private func runExecutable(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltExecutable.path)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outputData, as: UTF8.self),
            String(decoding: errorData, as: UTF8.self)
        )
    }

    @Test(.timeLimit(.minutes(1)))
    func builtExecutableExitsWithTheCheckResult() throws {
        let directory = try TemporaryDirectory()
        let path = try self.writeValidConfiguration(in: directory)
        let valid = try self.runExecutable(["check-config", "--config", path])
        #expect(valid.status == 0)
        #expect(valid.output.contains("manager_node: \"node-1\""))
        #expect(!valid.output.contains("pw-secret-in-yaml"))

        let invalid = try self.runExecutable(["check-config", "--config", directory.path + "/missing.yaml"])
        #expect(invalid.status == 1)
        #expect(invalid.error.contains("cannot read the file"))

        let key = directory.path + "/new.key"
        #expect(try self.runExecutable(["keygen", "--out", key]).status == 0)
        let again = try self.runExecutable(["keygen", "--out", key])
        #expect(again.status != 0)
        #expect(again.error.contains("pass --force"))
        #expect(try self.runExecutable(["keygen", "--out", key, "--force"]).status == 0)
    }
}
