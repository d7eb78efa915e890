import Foundation
import Testing

@testable import Gateway

/// A fresh temporary directory per test, removed when the test ends.
struct TemporaryDirectory: ~Copyable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        let path = base + "/gateway-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    /// Writes `text` to `name` inside the directory with `mode`, returning the full path.
    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let file = self.path + "/" + name
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }
}

enum RepositoryFiles {
    /// The repository root, found from this source file's location.
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}

/// Loads YAML expecting failure and returns the collected errors.
func loadErrors(_ yaml: String, environment: [String: String] = [:]) -> [ConfigurationError] {
    do {
        _ = try GatewayConfiguration.load(yaml: yaml, environment: environment)
        Issue.record("expected the configuration to be refused")
        return []
    } catch let errors as ConfigurationErrors {
        return errors.errors
    } catch {
        Issue.record("unexpected error type \(error)")
        return []
    }
}

/// The smallest configuration that loads: the required keys only.
let minimalYAML = """
    wazuh:
      manager_node: "node-1"
    nats:
      url: "nats://127.0.0.1:4222"
    security:
      signing_key_path: "/etc/wazuh-nats/signing.key"

    """
