import Foundation
import Logging
import Testing

@testable import Gateway

struct ConfigurationLoadingTests {
    @Test func seedExampleLoadsAsWritten() throws {
        let path = RepositoryFiles.root + "/config/seed-example.yaml"
        let configuration = try GatewayConfiguration.load(fileAt: path, environment: [:])
        #expect(configuration.wazuh.dbPath == "/var/ossec/queue/db/global.db")
        #expect(configuration.wazuh.pollInterval == .seconds(5))
        #expect(configuration.wazuh.managerNode == "wazuh-manager-01")
        #expect(configuration.nats.url == "nats://localhost:4222")
        #expect(configuration.nats.credentialsFile == "/etc/wazuh-nats/nats.creds")
        #expect(configuration.nats.tlsCert == "/etc/wazuh-nats/client.crt")
        #expect(configuration.nats.tlsKey == "/etc/wazuh-nats/client.key")
        #expect(configuration.nats.subjectPrefix == "wazuh")
        #expect(configuration.nats.maxReconnects == 10)
        #expect(configuration.nats.reconnectDelay == .seconds(2))
        #expect(configuration.security.signingKeyPath == "/etc/wazuh-nats/signing.key")
        #expect(configuration.security.encryptMessages)
        #expect(configuration.security.encryptionKeyPath == "/etc/wazuh-nats/encryption.key")
        #expect(configuration.monitoring.enableMetrics)
        #expect(configuration.monitoring.metricsPort == 9090)
        #expect(configuration.monitoring.logLevel == .info)
    }

    @Test func fullyCommentedExampleLoadsAndMatchesTheDefaults() throws {
        let path = RepositoryFiles.root + "/config/gateway.example.yaml"
        let loaded = try GatewayConfiguration.load(fileAt: path, environment: [:])
        var defaults = GatewayConfiguration(managerNode: "wazuh-manager-01", natsURL: "nats://127.0.0.1:4222")
        defaults.security.signingKeyPath = "/etc/wazuh-nats/signing.key"
        defaults.wazuh.explicitDBPath = "/var/ossec/queue/db/global.db"
        defaults.wazuh.explicitClientKeysPath = "/var/ossec/etc/client.keys"
        defaults.keyOrigins = loaded.keyOrigins
        defaults.sourceFile = path
        #expect(loaded == defaults)
    }

    @Test func demoConfigurationLoads() throws {
        let configuration = try GatewayConfiguration.load(
            fileAt: RepositoryFiles.root + "/config/demo.yaml", environment: [:])
        #expect(configuration.nats.url == "nats://127.0.0.1:4222")
        #expect(configuration.outbox.synchronous == .normal)
        #expect(configuration.outbox.maxBytes == 64 << 20)
        #expect(configuration.monitoring.logFormat == .text)
    }

    @Test func omittedKeysTakeTheirDocumentedDefaults() throws {
        let configuration = try GatewayConfiguration.load(yaml: minimalYAML, environment: [:])
        #expect(configuration.wazuh.installRoot == "/var/ossec")
        #expect(configuration.wazuh.dbPath == "/var/ossec/queue/db/global.db")
        #expect(configuration.wazuh.clientKeysPath == "/var/ossec/etc/client.keys")
        #expect(configuration.nats.delivery == .jetstream)
        #expect(configuration.nats.stream == "WAZUH")
        #expect(configuration.nats.streamReplicas == 1)
        #expect(configuration.nats.duplicateWindow == .seconds(600))
        #expect(configuration.nats.requestTimeout == .seconds(5))
        #expect(configuration.outbox.path == "/var/lib/wazuh-nats-gateway/outbox.db")
        #expect(configuration.outbox.retention == .seconds(7 * 86_400))
        #expect(configuration.outbox.maxBytes == 1 << 30)
        #expect(configuration.outbox.synchronous == .full)
        #expect(configuration.delivery.maxInFlight == 256)
        #expect(configuration.delivery.backoffBase == .milliseconds(100))
        #expect(configuration.delivery.backoffMax == .seconds(30))
        #expect(configuration.delivery.breakerFailureThreshold == 5)
        #expect(configuration.delivery.breakerCooldown == .seconds(10))
        #expect(configuration.delivery.compressionMinBytes == 1024)
        #expect(configuration.delivery.shutdownTimeout == .seconds(10))
        #expect(configuration.monitoring.metricsAddress == "127.0.0.1")
        #expect(configuration.monitoring.heartbeatInterval == .seconds(30))
        #expect(configuration.monitoring.logFormat == .json)
        #expect(configuration.security.encryptMessages == false)
    }

    @Test func dbPathDefaultsUnderTheInstallRoot() throws {
        let yaml = minimalYAML.replacingOccurrences(
            of: "  manager_node: \"node-1\"", with: "  manager_node: \"node-1\"\n  install_root: /opt/wazuh")
        let configuration = try GatewayConfiguration.load(yaml: yaml, environment: [:])
        #expect(configuration.wazuh.dbPath == "/opt/wazuh/queue/db/global.db")
    }

    @Test func wrongTypeNamesTheKeyThePositionAndWhatWasExpected() throws {
        let errors = loadErrors(minimalYAML + "monitoring:\n  metrics_port: ninety\n  enable_metrics: maybe\n")
        #expect(errors.count == 2)
        let port = try #require(errors.first { $0.keyPath == "monitoring.metrics_port" })
        #expect(port.code == .wrongType)
        #expect(port.origin == .file(line: 8, column: 17))
        #expect(port.description == "line 8, column 17: monitoring.metrics_port: expected an integer, found \"ninety\"")
        let flag = try #require(errors.first { $0.keyPath == "monitoring.enable_metrics" })
        #expect(
            flag.description == "line 9, column 19: monitoring.enable_metrics: expected true or false, found \"maybe\"")
    }

    @Test func mappingWhereAValueBelongsIsAWrongType() {
        let errors = loadErrors(minimalYAML + "outbox:\n  path:\n    nested: 1\n")
        #expect(errors.map(\.description) == ["line 9, column 5: outbox.path: expected a string, found a mapping"])
    }

    @Test func badDurationIsExplained() {
        let errors = loadErrors(minimalYAML + "delivery:\n  backoff_max: \"30 seconds\"\n")
        #expect(
            errors.map(\.description) == [
                "line 8, column 16: delivery.backoff_max: expected a duration such as \"500ms\", \"5s\", \"10m\", \"2h\" or \"7d\", found \"30 seconds\""
            ])
    }

    @Test func bareNumberDurationIsRefusedAsAmbiguous() {
        let errors = loadErrors(minimalYAML + "delivery:\n  shutdown_timeout: 10\n")
        #expect(errors.count == 1)
        #expect(errors.first?.code == .invalidValue)
        #expect(errors.first?.message.contains("a number without a unit is ambiguous") == true)
        #expect(errors.first?.keyPath == "delivery.shutdown_timeout")
    }

    @Test func unknownKeyIsReportedWithASuggestion() {
        let errors = loadErrors(minimalYAML + "monitoring:\n  metrics_prot: 9100\n")
        #expect(
            errors.map(\.description) == [
                "line 8, column 3: monitoring.metrics_prot: unknown key; did you mean 'metrics_port'?"
            ])
        #expect(errors.first?.code == .unknownKey)
    }

    @Test func unknownKeyThatBelongsElsewhereSaysWhere() {
        let errors = loadErrors(minimalYAML + "monitoring:\n  subject_prefix: x\n")
        #expect(errors.map(\.message) == ["unknown key; 'subject_prefix' belongs in section 'nats'"])
    }

    @Test func unknownSectionIsReportedWithASuggestion() {
        let errors = loadErrors(minimalYAML + "deliveri:\n  batch_size: 10\n")
        #expect(errors.map(\.description) == ["line 7, column 1: deliveri: unknown section; did you mean 'delivery'?"])
    }

    @Test func missingRequiredKeysAreAllReported() {
        let errors = loadErrors("wazuh:\n  poll_interval: 5s\n")
        #expect(errors.allSatisfy { $0.code == .missingKey })
        #expect(Set(errors.compactMap(\.keyPath)) == ["wazuh.manager_node", "nats.url", "security.signing_key_path"])
        let node = errors.first { $0.keyPath == "wazuh.manager_node" }
        #expect(
            node?.description
                == "line 1, column 1: wazuh.manager_node: required key is missing (set it in the file or in WAZUH_NATS_GATEWAY_WAZUH_MANAGER_NODE)"
        )
    }

    @Test func emptyDocumentReportsTheRequiredKeys() {
        #expect(loadErrors("").count == 3)
    }

    @Test func badEnumValueListsTheChoicesAndSuggests() {
        let errors = loadErrors(minimalYAML + "outbox:\n  synchronous: ful\n")
        #expect(errors.map(\.message) == ["expected one of full, normal, found \"ful\"; did you mean 'full'?"])
    }

    @Test func logLevelAcceptsSwiftLogLevels() throws {
        let configuration = try GatewayConfiguration.load(
            yaml: minimalYAML + "monitoring:\n  log_level: DEBUG\n", environment: [:])
        #expect(configuration.monitoring.logLevel == .debug)
        #expect(
            loadErrors(minimalYAML + "monitoring:\n  log_level: verbose\n").first?.keyPath == "monitoring.log_level")
    }

    @Test func encryptionWithoutKeyPathIsRefused() {
        let errors = loadErrors(
            minimalYAML.replacingOccurrences(of: "security:\n", with: "security:\n  encrypt_messages: true\n"))
        #expect(
            errors.map(\.description)
                == ["security.encryption_key_path: required because security.encrypt_messages is true"])
        #expect(errors.first?.code == .invalidCombination)
    }

    @Test func tlsCertificateWithoutKeyIsRefused() {
        let errors = loadErrors(minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  tls_cert: /c.pem\n"))
        #expect(
            errors.map(\.message) == ["required because nats.tls_cert is set (client certificate and key go together)"])
        #expect(errors.first?.keyPath == "nats.tls_key")
    }

    @Test func outOfRangeIntegersNameTheRange() {
        let errors = loadErrors(minimalYAML + "delivery:\n  max_in_flight: 0\n  batch_size: 20000\n")
        #expect(
            Set(errors.map(\.description)) == [
                "line 8, column 18: delivery.max_in_flight: expected an integer between 1 and 100000, found 0",
                "line 9, column 15: delivery.batch_size: expected an integer between 1 and 10000, found 20000",
            ])
    }

    @Test func shortDuplicateWindowIsRefused() {
        let yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  duplicate_window: 30s\n")
        let errors = loadErrors(yaml)
        #expect(errors.count == 1)
        #expect(errors.first?.keyPath == "nats.duplicate_window")
        #expect(errors.first?.message.hasPrefix("must be at least 2m") == true)
        #expect(errors.first?.origin == .file(line: 4, column: 21))
    }

    @Test func backoffBaseAboveMaxIsRefused() {
        let errors = loadErrors(minimalYAML + "delivery:\n  backoff_base: 1m\n  backoff_max: 10s\n")
        #expect(
            errors.map(\.description) == [
                "line 8, column 17: delivery.backoff_base: must not exceed delivery.backoff_max (10s)"
            ])
    }

    @Test func severalAuthenticationMethodsAreRefused() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "nats:\n", with: "nats:\n  token_file: /t\n  nkey_seed_file: /s\n")
        #expect(loadErrors(yaml).map(\.message) == ["choose one authentication method, found token, nkey_seed_file"])
    }

    @Test func credentialsInTheURLAreRefusedWithoutEchoingThem() {
        let yaml = minimalYAML.replacingOccurrences(
            of: "nats://127.0.0.1:4222", with: "nats://alice:hunter2@127.0.0.1:4222")
        let errors = loadErrors(yaml)
        #expect(errors.first?.keyPath == "nats.url")
        #expect(!errors.map(\.description).joined().contains("hunter2"))
    }

    @Test(arguments: ["http://127.0.0.1:4222", "nats://127.0.0.1:99999", "127.0.0.1:4222", "nats://"])
    func malformedURLsAreRefused(url: String) {
        let yaml = minimalYAML.replacingOccurrences(of: "nats://127.0.0.1:4222", with: url)
        #expect(loadErrors(yaml).map(\.keyPath) == ["nats.url"])
    }

    @Test func clusterURLListsAreAccepted() throws {
        let yaml = minimalYAML.replacingOccurrences(
            of: "nats://127.0.0.1:4222", with: "nats://127.0.0.1:4222,tls://127.0.0.1:4223")
        let configuration = try GatewayConfiguration.load(yaml: yaml, environment: [:])
        let servers = try configuration.natsConnectionOptions().servers
        #expect(servers.map(\.description) == ["nats://127.0.0.1:4222", "tls://127.0.0.1:4223"])
        #expect(servers.map(\.tls) == [false, true])
    }

    @Test(arguments: ["", "a..b", "wazuh.>", "has space", "*"])
    func invalidSubjectPrefixesAreRefused(prefix: String) {
        let yaml = minimalYAML.replacingOccurrences(of: "nats:\n", with: "nats:\n  subject_prefix: \"\(prefix)\"\n")
        #expect(loadErrors(yaml).map(\.keyPath) == ["nats.subject_prefix"])
    }

    @Test func invalidYAMLReportsPositionWithoutQuotingTheLine() {
        let errors = loadErrors("nats:\n  password: \"hunter2\n  url: x\n")
        #expect(errors.count == 1)
        #expect(errors.first?.code == .invalidYAML)
        #expect(errors.first?.origin != nil)
        #expect(!(errors.first?.description.contains("hunter2") ?? true))
    }

    @Test func manyErrorsAreCollectedTogether() {
        let yaml = """
            wazuh:
              manager_node: n
              poll_interval: soon
            nats:
              url: "nats://127.0.0.1:4222"
              max_reconects: 3
              delivery: jetstrem
            security:
              signing_key_path: /k
            delivery:
              max_in_flight: many
            """
        let errors = loadErrors(yaml)
        #expect(
            Set(errors.compactMap(\.keyPath))
                == ["wazuh.poll_interval", "nats.max_reconects", "nats.delivery", "delivery.max_in_flight"])
    }

    @Test func duplicateKeysAreReported() {
        let errors = loadErrors(minimalYAML + "monitoring:\n  metrics_port: 1\n  metrics_port: 2\n")
        #expect(errors.map(\.code) == [.invalidYAML])
        #expect(errors.first?.message == "key 'metrics_port' appears more than once in the same mapping")
        #expect(errors.first?.origin != nil)
    }

    @Test func duplicateSectionsAreReported() {
        let errors = loadErrors(minimalYAML + "nats:\n  stream: X\n")
        #expect(errors.map(\.message) == ["key 'nats' appears more than once in the same mapping"])
    }

    @Test func nullValuesMeanTheDefault() throws {
        let configuration = try GatewayConfiguration.load(
            yaml: minimalYAML + "outbox:\n  path: ~\n  retention:\n", environment: [:])
        #expect(configuration.outbox.path == GatewayConfiguration.Outbox.defaultPath)
        #expect(configuration.outbox.retention == .seconds(7 * 86_400))
    }
}
