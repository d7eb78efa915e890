import Logging

/// The complete, typed gateway configuration. Every field holds its documented default until a
/// YAML file or an environment override sets it; see `config/gateway.example.yaml`.
///
/// Build one with `GatewayConfiguration.load(yaml:environment:)` (or `load(fileAt:environment:)`),
/// then call `validate()` before use: loading checks types, ranges and key combinations; validation
/// also checks the files the configuration refers to.
public struct GatewayConfiguration: Sendable, Equatable {
    /// `wazuh:` — the one manager watched; with `managers:`, a copy of its first entry.
    public var wazuh: Wazuh
    /// `managers:` — every manager watched, each with the keys of `wazuh:`; empty when the file
    /// uses the single `wazuh:` section. See ``watchedManagers``.
    public var managers: [Wazuh] = []
    public var nats: NATS
    public var security: Security
    public var outbox: Outbox
    public var delivery: Delivery
    public var monitoring: Monitoring
    /// `anomaly:` — fleet anomaly detection (on by default, conservative thresholds).
    public var anomaly: AnomalyThresholds = AnomalyThresholds()
    /// `rate_limit:` — per-agent condensing of the secondary subjects (off by default).
    public var rateLimit: RateLimit = RateLimit()
    /// Where each key's value came from (file position or environment variable), used to point
    /// error messages at the right line. Empty for a configuration built in code.
    public var keyOrigins: [String: ConfigurationError.Origin] = [:]
    /// The file this configuration was loaded from, if any. `validate()` refuses an inline
    /// `nats.password` or `nats.token` in a file that group or others can read.
    public var sourceFile: String?

    /// A configuration with every default; `wazuh.manager_node` and `nats.url`, which have no
    /// default in a file, take the given values.
    public init(managerNode: String, natsURL: String) {
        self.wazuh = Wazuh(managerNode: managerNode)
        self.nats = NATS(url: natsURL)
        self.security = Security()
        self.outbox = Outbox()
        self.delivery = Delivery()
        self.monitoring = Monitoring()
    }

    /// `wazuh:` — where the manager's data is and how often to look at it.
    public struct Wazuh: Sendable, Equatable {
        public static let defaultInstallRoot = "/var/ossec"
        /// Wazuh's installation directory; `db_path` and `client_keys_path` default under it.
        public var installRoot: String = Wazuh.defaultInstallRoot
        /// Explicit `db_path`; nil means `<install_root>/queue/db/global.db`.
        public var explicitDBPath: String?
        /// Explicit `client_keys_path`; nil means `<install_root>/etc/client.keys`.
        public var explicitClientKeysPath: String?
        /// Fallback poll period when no file-change notification arrives.
        public var pollInterval: Duration = .seconds(5)
        /// Name of this manager node; appears in every event and in heartbeat subjects. Required.
        public var managerNode: String
        /// Where agent status is read: `file`, `wazuh-db` (its socket) or `auto` (the socket when it
        /// answers, else the file; the default).
        public var source: Source = .auto
        /// Explicit `socket_path`; nil means `<install_root>/queue/db/wdb`.
        public var explicitSocketPath: String?
        /// How often wazuh-db's socket is asked.
        public var socketPollInterval: Duration = .milliseconds(500)
        /// Longest time between two full sweeps of wazuh-db's agents (polls in between are incremental).
        public var socketFullSweepInterval: Duration = .seconds(60)
        /// The `api_*` keys, used when `source` is `api`.
        public var api = WazuhAPISettings()

        /// `wazuh.source`.
        public enum Source: String, Sendable, Equatable, CaseIterable {
            case file
            case wazuhDB = "wazuh-db"
            case auto
            /// A (remote) manager's REST API, see ``WazuhAPISettings``.
            case api
        }

        public init(managerNode: String) {
            self.managerNode = managerNode
        }

        /// The effective path of Wazuh's `global.db`.
        public var dbPath: String {
            self.explicitDBPath ?? self.installRoot.appendingPathComponent("queue/db/global.db")
        }

        /// The effective path of wazuh-db's socket.
        public var socketPath: String {
            self.explicitSocketPath ?? self.installRoot.appendingPathComponent("queue/db/wdb")
        }

        /// The effective path of Wazuh's `client.keys`.
        public var clientKeysPath: String {
            self.explicitClientKeysPath ?? self.installRoot.appendingPathComponent("etc/client.keys")
        }
    }

    /// How messages reach NATS.
    public enum DeliveryMode: String, Sendable, Equatable, CaseIterable {
        /// Publish to a JetStream stream and wait for each PubAck (default).
        case jetstream
        /// Plain NATS request/reply: delivered when any responder answers.
        case request
        /// Fire-and-forget core NATS publish: best effort, no proof of delivery.
        case publish
    }

    /// `nats:` — server, authentication, TLS and JetStream settings.
    public struct NATS: Sendable, Equatable {
        /// Smallest accepted `duplicate_window`: the window must outlast any redelivery after a
        /// reconnect, or the server would store a resent message twice.
        public static let minimumDuplicateWindow: Duration = .seconds(120)

        /// Server URL(s), comma-separated: `nats://127.0.0.1:4222` or `tls://…`. Required.
        public var url: String
        /// JWT + NKey seed `.creds` file (decentralized auth).
        public var credentialsFile: String?
        public var tlsCert: String?
        public var tlsKey: String?
        public var tlsCA: String?
        public var user: String?
        /// Inline password (or from `WAZUH_NATS_GATEWAY_NATS_PASSWORD`).
        public var password: Secret?
        public var passwordFile: String?
        /// Inline token (or from `WAZUH_NATS_GATEWAY_NATS_TOKEN`).
        public var token: Secret?
        public var tokenFile: String?
        /// File holding an NKey user seed (`SU…`).
        public var nkeySeedFile: String?
        public var subjectPrefix: String = "wazuh"
        /// Reconnect attempts before giving up; -1 means forever.
        public var maxReconnects: Int = 10
        public var reconnectDelay: Duration = .seconds(2)
        public var delivery: DeliveryMode = .jetstream
        public var stream: String = "WAZUH"
        public var streamReplicas: Int = 1
        /// JetStream duplicate window; at least `minimumDuplicateWindow`, 10m recommended.
        public var duplicateWindow: Duration = .seconds(600)
        public var requestTimeout: Duration = .seconds(5)
        public var pingInterval: Duration = .seconds(120)

        public init(url: String) {
            self.url = url
        }
    }

    /// `security:` — signing and encryption keys.
    public struct Security: Sendable, Equatable {
        /// Base64 key file (≥ 32 bytes) for the HMAC-SHA256 signature every message carries. Required.
        public var signingKeyPath: String?
        public var encryptMessages: Bool = false
        /// Base64 key file (exactly 32 bytes) for AES-256-GCM; required when `encrypt_messages`.
        public var encryptionKeyPath: String?

        public init() {}
    }

    /// SQLite `synchronous` level of the outbox journal.
    public enum SynchronousMode: String, Sendable, Equatable, CaseIterable {
        /// fsync on every commit: nothing acknowledged by the outbox is lost on power failure.
        case full
        /// WAL `NORMAL`: survives a process crash; the last commits may be lost on power failure.
        case normal
    }

    /// `outbox:` — the local SQLite journal.
    public struct Outbox: Sendable, Equatable {
        public static let defaultPath = "/var/lib/wazuh-nats-gateway/outbox.db"
        public var path: String = Outbox.defaultPath
        /// How long delivered events are kept for `replay`.
        public var retention: Duration = .seconds(7 * 86_400)
        /// Size limit of the journal file in bytes.
        public var maxBytes: Int64 = 1 << 30
        public var synchronous: SynchronousMode = .full
        /// Keep the hash-chained audit log of every acknowledged message (same retention).
        public var audit: Bool = true

        public init() {}
    }

    /// `delivery:` — batching, backoff, circuit breaker, compression, shutdown.
    public struct Delivery: Sendable, Equatable {
        public var batchSize: Int = 100
        public var maxInFlight: Int = 256
        public var backoffBase: Duration = .milliseconds(100)
        public var backoffMax: Duration = .seconds(30)
        public var breakerFailureThreshold: Int = 5
        public var breakerCooldown: Duration = .seconds(10)
        /// Payloads longer than this many bytes are LZ4-compressed.
        public var compressionMinBytes: Int = 1024
        /// How long a SIGTERM/SIGINT drain may take before the rest stays journaled.
        public var shutdownTimeout: Duration = .seconds(10)

        public init() {}
    }

    /// `rate_limit:` — above `per_agent` transitions of one agent within `window`, its secondary
    /// subjects get one flapping summary per window instead of every transition.
    public struct RateLimit: Sendable, Equatable {
        /// 0 turns the limit off.
        public var perAgent: Int = 0
        public var window: Duration = .seconds(60)

        public init() {}
    }

    /// Format of log lines.
    public enum LogFormat: String, Sendable, Equatable, CaseIterable {
        /// One JSON object per line (for journald, log shippers).
        case json
        /// Human-readable lines for a terminal.
        case text
    }

    /// `monitoring:` — HTTP metrics/health endpoints, logging, heartbeat.
    public struct Monitoring: Sendable, Equatable {
        /// Serve `/metrics`, `/healthz` and `/readyz`.
        public var enableMetrics: Bool = true
        /// Bind address of the HTTP endpoints; loopback by default.
        public var metricsAddress: String = "127.0.0.1"
        /// Port of the HTTP endpoints; 0 picks a free port.
        public var metricsPort: Int = 9090
        public var logLevel: Logger.Level = .info
        public var logFormat: LogFormat = .json
        public var heartbeatInterval: Duration = .seconds(30)
        /// Serve the operator dashboard at `/` on the monitoring server. On a non-loopback
        /// `metrics_address` it is served only with `dashboard_user`/`dashboard_password_file` or
        /// `dashboard_token_file` set.
        public var enableDashboard: Bool = true
        /// User name for HTTP basic auth on the dashboard (with `dashboard_password_file`).
        public var dashboardUser: String?
        /// File whose first line is the dashboard's basic-auth password.
        public var dashboardPasswordFile: String?
        /// File whose first line is a bearer token accepted by the dashboard.
        public var dashboardTokenFile: String?

        public init() {}
    }
}

extension String {
    func appendingPathComponent(_ component: String) -> String {
        self.hasSuffix("/") ? self + component : self + "/" + component
    }
}
