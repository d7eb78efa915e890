import Foundation

/// The demo's gateway configuration: `config/demo.yaml`, compiled in, so the file a user reads and
/// the one the `demo` command writes cannot drift apart (`DemoTests` checks the text is byte for
/// byte the repository's file). ``rendered(root:natsPort:httpPort:)`` points its relative
/// `demo-state/` paths and its ports at one run's state directory and servers.
enum DemoConfigurationFile {
    /// The text of `config/demo.yaml`.
    static let text = """
        # Local demo: everything under ./demo-state, a local nats-server, no TLS.
        # The demo command creates the state directory, the simulated global.db and the keys
        # (or run: wazuh-nats-gateway keygen --out demo-state/signing.key, and again for encryption.key).
        wazuh:
          install_root: "demo-state/ossec"
          db_path: "demo-state/ossec/queue/db/global.db"
          poll_interval: "1s"
          source: auto
          socket_path: "demo-state/ossec/queue/db/wdb"
          socket_poll_interval: "500ms"
          manager_node: "demo-manager"
        nats:
          url: "nats://127.0.0.1:4222"
          subject_prefix: "wazuh"
          delivery: jetstream
          stream: "WAZUH"
          duplicate_window: "10m"
        security:
          signing_key_path: "demo-state/signing.key"
          encrypt_messages: true
          encryption_key_path: "demo-state/encryption.key"
        outbox:
          path: "demo-state/outbox.db"
          retention: "1d"
          max_bytes: "64MiB"
          synchronous: normal
        monitoring:
          enable_metrics: true
          metrics_address: "127.0.0.1"
          metrics_port: 9090
          log_level: "info"
          log_format: text
          heartbeat_interval: "10s"

        """

    /// The state directory the file's relative paths start with.
    static let stateDirectory = "demo-state"
    /// The NATS URL and metrics port the file names.
    static let natsURL = "nats://127.0.0.1:4222"
    static let metricsPort = "metrics_port: 9090"

    /// `config/demo.yaml` with `demo-state/` replaced by `root` (absolute), and the ports of this run.
    static func rendered(root: String, natsPort: Int, httpPort: Int) -> String {
        "# Written by `wazuh-nats-gateway demo` (from config/demo.yaml).\n"
            + text
            .replacingOccurrences(of: "\"\(stateDirectory)/", with: "\"\(root)/")
            .replacingOccurrences(of: natsURL, with: "nats://127.0.0.1:\(natsPort)")
            .replacingOccurrences(of: metricsPort, with: "metrics_port: \(httpPort)")
    }
}
