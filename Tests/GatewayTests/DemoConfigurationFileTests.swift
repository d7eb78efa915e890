import Foundation
import Testing

@testable import Gateway
@testable import GatewayCommands

/// The demo writes `config/demo.yaml` (compiled in) with its state directory and ports; the two
/// must not drift apart.
struct DemoConfigurationFileTests {
    @Test func compiledInTextIsTheRepositoryFile() throws {
        let file = try String(contentsOfFile: RepositoryFiles.root + "/config/demo.yaml", encoding: .utf8)
        #expect(DemoConfigurationFile.text == file)
    }

    @Test func renderedFileIsTheDemoFileWithThisRunsPathsAndPorts() throws {
        let layout = DemoRun.Layout(root: "/tmp/demo-run")
        var rendered = try GatewayConfiguration.load(
            yaml: DemoConfigurationFile.rendered(root: layout.root, natsPort: 14_222, httpPort: 19_090),
            environment: [:])
        #expect(rendered.wazuh.installRoot == layout.root + "/ossec")
        #expect(rendered.wazuh.dbPath == layout.database)
        #expect(rendered.wazuh.socketPath == layout.socket)
        #expect(rendered.security.signingKeyPath == layout.signingKey)
        #expect(rendered.security.encryptionKeyPath == layout.encryptionKey)
        #expect(rendered.outbox.path == layout.outbox)
        #expect(rendered.nats.url == "nats://127.0.0.1:14222")
        #expect(rendered.monitoring.metricsPort == 19_090)

        // Everything else is the repository's file as it stands.
        var original = try GatewayConfiguration.load(yaml: DemoConfigurationFile.text, environment: [:])
        original.wazuh.installRoot = rendered.wazuh.installRoot
        original.wazuh.explicitDBPath = rendered.wazuh.explicitDBPath
        original.wazuh.explicitSocketPath = rendered.wazuh.explicitSocketPath
        original.security.signingKeyPath = rendered.security.signingKeyPath
        original.security.encryptionKeyPath = rendered.security.encryptionKeyPath
        original.outbox.path = rendered.outbox.path
        original.nats.url = rendered.nats.url
        original.monitoring.metricsPort = rendered.monitoring.metricsPort
        // Where each key was found: the rendered file starts with one more comment line.
        original.keyOrigins = [:]
        rendered.keyOrigins = [:]
        #expect(original == rendered)
    }
}
