import Foundation

/// Everything the dashboard page shows, as one JSON document (`GET /dashboard/state` and each
/// Server-Sent Event of `/dashboard/events`). Times are Unix milliseconds of the gateway's clock;
/// the page computes ages against `now` so a skewed browser clock does not matter.
///
/// Agent-controlled text (agent and node names) travels here as JSON strings; the page inserts it
/// with `textContent` only.
public struct DashboardSnapshot: Sendable, Codable, Equatable {
    /// Agent counts by status.
    public struct Counts: Sendable, Codable, Equatable {
        public var total = 0
        public var active = 0
        public var disconnected = 0
        public var pending = 0
        public var neverConnected = 0

        public init() {}
    }

    /// The counts of one cluster node (`node_name`; `-` when the schema has none).
    public struct NodeCounts: Sendable, Codable, Equatable {
        public var node: String
        public var counts: Counts
    }

    /// One detected transition, newest first in `events`.
    public struct Event: Sendable, Codable, Equatable {
        public var agentID: String
        public var agentName: String
        public var node: String?
        /// `status_change`, `registered`, `removed`.
        public var kind: String
        public var previousStatus: String
        public var currentStatus: String
        public var reason: String?
        public var detectedAt: Int64
        /// The manager that journaled it (its `manager_node`).
        public var manager: String?
    }

    /// Transitions detected during one minute starting at `minute` (Unix ms).
    public struct MinuteBucket: Sendable, Codable, Equatable {
        public var minute: Int64
        public var transitions: Int
    }

    public struct Delivery: Sendable, Codable, Equatable {
        /// Messages acknowledged per second over the last `rateWindowSeconds`.
        public var ratePerSecond: Double = 0
        public var rateWindowSeconds = 0
        public var deliveredTotal = 0
        public var failedAttemptsTotal = 0
        public var parkedTotal = 0
        /// Publish → ack latency over the most recent acknowledgements (nil before the first).
        public var ackLatencyP50Milliseconds: Double?
        public var ackLatencyP99Milliseconds: Double?
        public var ackLatencyMaxMilliseconds: Double?
        /// `closed`, `half_open`, `open`.
        public var breaker = "closed"
        public var lastFailure: String?
    }

    public struct Outbox: Sendable, Codable, Equatable {
        public var depth = 0
        public var oldestPendingAgeSeconds: Int64 = 0
    }

    public struct NATS: Sendable, Codable, Equatable {
        public var connected = false
        /// `host:port` of the server in use, when connected once.
        public var server: String?
        public var serverName: String?
        public var serverVersion: String?
        public var reconnects = 0
    }

    public struct Source: Sendable, Codable, Equatable {
        public var healthy = false
        public var lastSuccessfulRead: Int64?
        public var lastError: String?
        public var consecutiveFailures = 0
        public var successfulReads = 0
    }

    /// One watched manager (every entry of `managers:`, or the single `wazuh:` manager): its own
    /// fleet counts, its source's health and the transitions it journaled since the gateway started.
    public struct Manager: Sendable, Codable, Equatable {
        public var node: String
        public var fleet = Counts()
        public var source = Source()
        public var transitionsTotal = 0

        public init(node: String) {
            self.node = node
        }
    }

    /// Increases with every change; equal versions mean equal content (apart from `now`).
    public var version: UInt64 = 0
    public var now: Int64 = 0
    public var managerNode = ""
    public var gatewayVersion = ""
    public var startedAt: Int64 = 0
    /// Every manager's agents together.
    public var fleet = Counts()
    /// Each manager in configuration order.
    public var managers: [Manager] = []
    public var nodes: [NodeCounts] = []
    public var events: [Event] = []
    public var transitionsPerMinute: [MinuteBucket] = []
    public var delivery = Delivery()
    public var outbox = Outbox()
    public var nats = NATS()
    /// The first manager's source (each manager's is in `managers`).
    public var source = Source()

    public init() {}

    /// Compact JSON (keys sorted, so equal snapshots encode identically).
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Every member is a plain string, number, bool or optional of those: encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data("{}".utf8)
    }
}
