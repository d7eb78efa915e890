/// Tunables of the ``DeliveryWorker`` (from the `delivery`, `outbox` and `monitoring` configuration
/// sections).
public struct DeliveryWorkerConfiguration: Sendable, Hashable {
    /// `delivery.max_in_flight`: messages sent and not yet acknowledged, at most.
    public var maxInFlight: Int
    /// `delivery.batch_size`: rows read from the outbox per page (never more than `maxInFlight`).
    public var pageSize: Int
    /// `delivery.backoff_base` / `delivery.backoff_max`.
    public var backoff: Backoff
    /// `delivery.breaker_failure_threshold`: consecutive failed rounds before the breaker opens.
    public var breakerFailureThreshold: Int
    /// `delivery.breaker_cooldown`.
    public var breakerCooldown: Duration
    /// `delivery.shutdown_timeout`: how long a graceful shutdown keeps draining.
    public var shutdownTimeout: Duration
    /// How often the outbox is checked without a wake-up from the detection service.
    public var pollInterval: Duration
    /// `monitoring.heartbeat_interval`; `nil` disables heartbeats.
    public var heartbeatInterval: Duration?
    /// `outbox.retention`: delivered rows older than this are pruned.
    public var retention: Duration
    /// `outbox.max_bytes`: beyond it, the oldest delivered rows are pruned.
    public var maxOutboxBytes: Int64?
    /// How often retention pruning runs.
    public var pruneInterval: Duration
    /// How often the outbox depth is re-counted for status and metrics.
    public var statusRefreshInterval: Duration
    /// `outbox.audit`: append every acknowledged message to the hash-chained audit log (SHA-256 of
    /// the bytes sent), in the transaction that marks it delivered.
    public var auditLog: Bool = false

    public init(
        maxInFlight: Int = 256, pageSize: Int = 256,
        backoff: Backoff = Backoff(base: .milliseconds(100), cap: .seconds(30)),
        breakerFailureThreshold: Int = 5, breakerCooldown: Duration = .seconds(10),
        shutdownTimeout: Duration = .seconds(10),
        pollInterval: Duration = .seconds(1), heartbeatInterval: Duration? = .seconds(30),
        retention: Duration = .seconds(7 * 86_400), maxOutboxBytes: Int64? = nil,
        pruneInterval: Duration = .seconds(3_600),
        statusRefreshInterval: Duration = .seconds(1)
    ) {
        self.maxInFlight = max(1, maxInFlight)
        self.pageSize = max(1, pageSize)
        self.backoff = backoff
        self.breakerFailureThreshold = max(1, breakerFailureThreshold)
        self.breakerCooldown = breakerCooldown
        self.shutdownTimeout = shutdownTimeout
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.retention = retention
        self.maxOutboxBytes = maxOutboxBytes
        self.pruneInterval = pruneInterval
        self.statusRefreshInterval = statusRefreshInterval
    }
}
