import Testing

@testable import Gateway

/// `wazuh.source`, `wazuh.socket_path` and `wazuh.socket_poll_interval`.
struct ConfigurationSourceTests {
    static func yaml(_ wazuhKeys: String) -> String {
        minimalYAML.replacingOccurrences(
            of: "  manager_node: \"node-1\"", with: "  manager_node: \"node-1\"\n" + wazuhKeys)
    }

    @Test func theSourceDefaultsToAutoWithTheSocketUnderTheInstallRoot() throws {
        let configuration = try GatewayConfiguration.load(yaml: minimalYAML, environment: [:])
        #expect(configuration.wazuh.source == .auto)
        #expect(configuration.wazuh.socketPath == "/var/ossec/queue/db/wdb")
        #expect(configuration.wazuh.socketPollInterval == .milliseconds(500))
        #expect(configuration.wazuh.monitorSource == .auto)
        let moved = try GatewayConfiguration.load(yaml: Self.yaml("  install_root: /opt/wazuh"), environment: [:])
        #expect(moved.wazuh.socketPath == "/opt/wazuh/queue/db/wdb")
    }

    @Test func eachSourceLoadsAndReachesTheMonitor() throws {
        for (text, source, monitor) in [
            ("file", GatewayConfiguration.Wazuh.Source.file, "file"), ("wazuh-db", .wazuhDB, "wazuh-db"),
            ("auto", .auto, "auto"),
        ] {
            let configuration = try GatewayConfiguration.load(
                yaml: Self.yaml("  source: \(text)\n  socket_path: /run/wdb\n  socket_poll_interval: 250ms"),
                environment: [:])
            #expect(configuration.wazuh.source == source)
            #expect(configuration.wazuh.monitorSource.rawValue == monitor)
            #expect(configuration.wazuh.socketPath == "/run/wdb")
            #expect(configuration.wazuh.socketPollInterval == .milliseconds(250))
        }
        let environment = try GatewayConfiguration.load(
            yaml: minimalYAML, environment: ["WAZUH_NATS_GATEWAY_WAZUH_SOURCE": "file"])
        #expect(environment.wazuh.source == .file)
    }

    @Test func anUnknownSourceNamesTheChoices() {
        let errors = loadErrors(Self.yaml("  source: socket"))
        #expect(errors.count == 1)
        #expect(errors.first?.keyPath == "wazuh.source")
        #expect(errors.first?.description.contains("file, wazuh-db, auto") == true, "\(errors)")
    }

    @Test func aTooFrequentSocketPollIsRefused() {
        let errors = loadErrors(Self.yaml("  socket_poll_interval: 10ms"))
        #expect(errors.map(\.keyPath) == ["wazuh.socket_poll_interval"])
        #expect(errors.first?.description.contains("at least 100ms") == true)
    }

    @Test func aSocketPathLongerThanAUnixSocketAllowsIsRefusedUnlessTheFileIsTheSource() throws {
        let long = "/" + String(repeating: "s", count: 120)
        let errors = loadErrors(Self.yaml("  socket_path: \(long)"))
        #expect(errors.map(\.keyPath) == ["wazuh.socket_path"])
        _ = try GatewayConfiguration.load(yaml: Self.yaml("  source: file\n  socket_path: \(long)"), environment: [:])
    }

    @Test func theEffectiveConfigurationShowsTheSource() throws {
        let text = try GatewayConfiguration.load(yaml: minimalYAML, environment: [:]).effectiveDescription()
        #expect(text.contains("source: auto"))
        #expect(text.contains("socket_path: \"/var/ossec/queue/db/wdb\""))
        #expect(text.contains("socket_poll_interval: \"500ms\""))
    }
}
