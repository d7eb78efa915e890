import Foundation
import Testing

@testable import Gateway

struct ConfigurationEnvironmentTests {
    @Test func environmentOverridesWinOverTheFile() throws {
        let configuration = try GatewayConfiguration.load(
            yaml: minimalYAML,
            environment: [
                "WAZUH_NATS_GATEWAY_NATS_URL": "nats://127.0.0.1:5222",
                "WAZUH_NATS_GATEWAY_DELIVERY_MAX_IN_FLIGHT": "64",
                "WAZUH_NATS_GATEWAY_MONITORING_LOG_FORMAT": "text",
                "PATH": "/usr/bin",
            ])
        #expect(configuration.nats.url == "nats://127.0.0.1:5222")
        #expect(configuration.delivery.maxInFlight == 64)
        #expect(configuration.monitoring.logFormat == .text)
    }

    @Test func requiredKeysCanComeFromTheEnvironmentAlone() throws {
        let configuration = try GatewayConfiguration.load(
            yaml: "",
            environment: [
                "WAZUH_NATS_GATEWAY_WAZUH_MANAGER_NODE": "node-9",
                "WAZUH_NATS_GATEWAY_NATS_URL": "nats://127.0.0.1:4222",
                "WAZUH_NATS_GATEWAY_SECURITY_SIGNING_KEY_PATH": "/k",
            ])
        #expect(configuration.wazuh.managerNode == "node-9")
    }

    @Test func secretsComeFromTheEnvironment() throws {
        let yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  user: gateway\n")
        let configuration = try GatewayConfiguration.load(
            yaml: yaml, environment: ["WAZUH_NATS_GATEWAY_NATS_PASSWORD": "s3cret-env"])
        #expect(configuration.nats.password?.revealed == "s3cret-env")
        #expect(try configuration.nats.loadPassword()?.revealed == "s3cret-env")
    }

    @Test func badEnvironmentValueNamesTheVariable() {
        let errors = loadErrors(minimalYAML, environment: ["WAZUH_NATS_GATEWAY_NATS_MAX_RECONNECTS": "lots"])
        #expect(
            errors.map(\.description) == [
                "environment WAZUH_NATS_GATEWAY_NATS_MAX_RECONNECTS: nats.max_reconnects: expected an integer, found \"lots\""
            ])
    }

    @Test func unknownOverrideVariableIsReportedWithASuggestion() {
        let errors = loadErrors(minimalYAML, environment: ["WAZUH_NATS_GATEWAY_NATS_UR": "nats://127.0.0.1:4222"])
        #expect(errors.map(\.code) == [.unknownKey])
        #expect(
            errors.first?.description
                == "environment WAZUH_NATS_GATEWAY_NATS_UR: unknown override variable; did you mean 'WAZUH_NATS_GATEWAY_NATS_URL'?"
        )
    }

    @Test func secretValuesNeverAppearInErrors() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "nats:\n", with: "nats:\n  password: hunter2-file\n  password_file: /p\n  token:\n    t: hunter3\n")
        let errors = loadErrors(yaml, environment: ["WAZUH_NATS_GATEWAY_NATS_TOKEN": "hunter4-env"])
        let text = ConfigurationErrors(errors).description
        #expect(!errors.isEmpty)
        for secret in ["hunter2-file", "hunter3", "hunter4-env"] {
            #expect(!text.contains(secret))
        }
    }

    @Test func effectiveDescriptionRedactsSecrets() throws {
        let yaml = minimalYAML.replacingOccurrences(
            of: "nats:\n", with: "nats:\n  user: gateway\n  password: pw-in-file\n")
        let configuration = try GatewayConfiguration.load(yaml: yaml, environment: [:])
        let description = configuration.effectiveDescription()
        #expect(!description.contains("pw-in-file"))
        #expect(description.contains("  password: \"<redacted>\"\n"))
        #expect(description.contains("  token: null\n"))
        #expect("\(configuration)".contains("pw-in-file") == false)
        #expect(String(reflecting: configuration).contains("pw-in-file") == false)
    }

    @Test func effectiveDescriptionIsLoadableYAMLWithTheSameValues() throws {
        var yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  token: tok\n")
        yaml += "delivery:\n  backoff_base: 250ms\noutbox:\n  max_bytes: 3GiB\n"
        let original = try GatewayConfiguration.load(yaml: yaml, environment: [:])
        var reloaded = try GatewayConfiguration.load(yaml: original.effectiveDescription(), environment: [:])
        // The token prints as <redacted>; everything else must survive the round trip.
        #expect(reloaded.nats.token?.revealed == "<redacted>")
        reloaded.nats.token = original.nats.token
        reloaded.wazuh.explicitDBPath = nil
        reloaded.wazuh.explicitClientKeysPath = nil
        reloaded.wazuh.explicitSocketPath = nil
        reloaded.keyOrigins = original.keyOrigins
        #expect(reloaded == original)
    }
}
