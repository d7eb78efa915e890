import Foundation
import Testing

@testable import Gateway

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
