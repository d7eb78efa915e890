import Metrics

/// The metrics of one manager's agent status source. A single-manager gateway exports them without
/// labels (as before `managers:`); with `managers:` every series carries `manager="{node}"`.
public struct SourceMetrics: Sendable {
    /// How long one read of the source took.
    public let readDuration: Timer
    public let readErrors: Counter
    /// Unix time in seconds of the last successful read.
    public let lastSuccessfulRead: Gauge
    /// 1 for the source the last successful read used (`file`, `wazuh-db`), 0 for the others.
    private let active: [String: Gauge]
    /// Changes of source (socket ↔ file) since start.
    public let switches: Counter
    /// Requests sent to wazuh-db's socket, and reply bytes received from it.
    public let wazuhDBQueries: Counter
    public let wazuhDBReplyBytes: Counter
    /// Changes seen through wazuh-db's socket while global.db did not have them yet.
    public let changesBeforeFile: Counter

    /// - Parameter manager: the `manager` label's value; nil for unlabelled series.
    public init(factory: any MetricsFactory, manager: String?) {
        let p = GatewayMetrics.prefix
        let labels: [(String, String)] = manager.map { [("manager", $0)] } ?? []
        self.readDuration = Timer(label: GatewayMetrics.sourceReadDurationLabel, dimensions: labels, factory: factory)
        self.readErrors = Counter(label: p + "source_read_errors_total", dimensions: labels, factory: factory)
        self.lastSuccessfulRead = Gauge(
            label: p + "last_successful_source_read_timestamp_seconds", dimensions: labels, factory: factory)
        var active: [String: Gauge] = [:]
        for source in GatewayMetrics.sources {
            let gauge = Gauge(label: p + "source_active", dimensions: labels + [("source", source)], factory: factory)
            gauge.record(0)
            active[source] = gauge
        }
        self.active = active
        self.switches = Counter(label: p + "source_switches_total", dimensions: labels, factory: factory)
        self.wazuhDBQueries = Counter(label: p + "wazuhdb_queries_total", dimensions: labels, factory: factory)
        self.wazuhDBReplyBytes = Counter(label: p + "wazuhdb_reply_bytes_total", dimensions: labels, factory: factory)
        self.changesBeforeFile = Counter(
            label: p + "changes_seen_before_file_total", dimensions: labels, factory: factory)
        // Present in /metrics from the first scrape.
        self.lastSuccessfulRead.record(0)
    }

    /// Marks `source` (`file`, `wazuh-db`) active and the others inactive; `nil`: none yet.
    public func setActiveSource(_ source: String?) {
        for (name, gauge) in self.active {
            gauge.record(name == source ? 1 : 0)
        }
    }
}
