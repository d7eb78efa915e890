import Foundation
import Logging
import Synchronization
import Timekeeping
import WazuhSource

/// Agent status from a remote manager's REST API: polls `GET /agents` every poll interval and
/// hands out what changed, with ``AgentStatusMonitor``'s contract.
///
/// - Every update is the diff (``ChangeDetector``) between the snapshot passed in and a fresh read;
///   reads that find nothing new are not returned. A caller that did not persist calls again with
///   its old snapshot and gets the same changes again (the monitor reads at once).
/// - With `nil` the first successful read is a baseline; with a stored snapshot the first call
///   reads at once, so changes made while the gateway was down are reported.
/// - Failures (unreachable, TLS, bad credentials, garbage, a fleet that moved between pages) are
///   logged, recorded in ``health`` and retried after 50 ms doubling up to the poll interval — up to
///   a minute for refused credentials, as Wazuh blocks a client after repeated failed logins.
///   Rate limiting (429) is waited out inside the client and is no failure. Only cancellation ends
///   a wait.
///
/// The API shows wazuh-db's own view (the open transaction included), like wazuh-db's socket; its
/// snapshots carry no ``SnapshotOrigin``, since a later file read has no commit to wait for that an
/// API read could have seen first on a remote manager.
///
/// `nextUpdate(after:)` is meant for one caller at a time; ``health`` may be read from anywhere.
/// Call ``shutdown()`` when done (it closes the client's connections).
public final class WazuhAPIMonitor: AgentStatusSourcing {
    public let client: WazuhAPIClient
    /// Time between two reads.
    public let pollInterval: Duration
    private let clock: any GatewayClock
    private let logger: Logger
    private struct State {
        var lastHandedOut: AgentSnapshot?
        var handedOutAny = false
        var lastReadStart: ContinuousClock.Instant?
    }
    private let state = Mutex(State())
    private let healthState = Mutex(SourceHealth())

    public init(client: WazuhAPIClient, pollInterval: Duration = .seconds(5), clock: any GatewayClock, logger: Logger) {
        self.client = client
        self.pollInterval = pollInterval
        self.clock = clock
        self.logger = logger
    }

    /// Builds the client too. - Throws: ``WazuhAPIError`` for an unusable URL or CA file.
    public convenience init(
        configuration: WazuhAPIClient.Configuration, pollInterval: Duration = .seconds(5),
        clock: any GatewayClock = SystemClock(), logger: Logger
    ) throws(WazuhAPIError) {
        self.init(
            client: try WazuhAPIClient(configuration: configuration, clock: clock, logger: logger),
            pollInterval: pollInterval, clock: clock, logger: logger)
    }

    /// Closes the client's connections.
    public func shutdown() async {
        await client.shutdown()
    }

    public var health: SourceHealth { healthState.withLock { $0 } }

    public func nextUpdate(after previous: AgentSnapshot?) async throws(CancellationError) -> SourceUpdate {
        var readNow = state.withLock { !$0.handedOutAny || $0.lastHandedOut != previous }
        var failures = 0
        while true {
            if Task.isCancelled { throw CancellationError() }
            if !readNow, let last = state.withLock({ $0.lastReadStart }) {
                try await sleep(until: last + pollInterval)
            }
            readNow = false
            state.withLock { $0.lastReadStart = clock.now }
            let started = clock.now
            let read: WazuhAPIClient.FullRead
            do {
                read = try await client.readAllAgents()
            } catch {
                if error.code == .cancelled || Task.isCancelled { throw CancellationError() }
                failures += 1
                record(error)
                let cap = error.code == .badCredentials ? max(pollInterval, .seconds(60)) : pollInterval
                try await sleep(until: clock.now + Self.retryDelay(afterFailures: failures - 1, cap: cap))
                readNow = true
                continue
            }
            failures = 0
            let snapshot = AgentSnapshot(records: read.records)
            recordSuccess(snapshot, pages: read.pages, duration: clock.now - started)
            let changes = ChangeDetector.changes(from: previous, to: snapshot)
            guard previous == nil || !changes.isEmpty else { continue }
            state.withLock { state in
                state.lastHandedOut = snapshot
                state.handedOutAny = true
            }
            if !changes.isEmpty {
                logger.debug(
                    "agent changes detected",
                    metadata: ["wazuh.changes": "\(changes.count)", "wazuh.agents": "\(snapshot.count)"])
            }
            return SourceUpdate(
                changes: changes, counts: snapshot.counts, snapshot: snapshot,
                readAt: Date(timeIntervalSince1970: clock.epochSeconds), isBaseline: previous == nil)
        }
    }

    /// 50 ms after the first failed read, doubling with each further one, at most `cap`.
    static func retryDelay(afterFailures failures: Int, cap: Duration) -> Duration {
        min(.milliseconds(50) * (1 << min(failures, 16)), max(cap, .milliseconds(50)))
    }

    private func sleep(until deadline: ContinuousClock.Instant) async throws(CancellationError) {
        do {
            try await clock.sleep(until: deadline)
        } catch {
            throw CancellationError()
        }
    }

    private func recordSuccess(_ snapshot: AgentSnapshot, pages: Int, duration: Duration) {
        let recovered = healthState.withLock { health in
            let recovered = health.consecutiveFailures > 0
            health.lastSuccessfulRead = Date(timeIntervalSince1970: clock.epochSeconds)
            health.consecutiveFailures = 0
            health.lastError = nil
            health.successfulReads += 1
            health.counts = snapshot.counts
            health.activeSource = .api
            health.lastTransactionDuration = duration
            return recovered
        }
        if recovered || health.successfulReads == 1 {
            logger.info(
                "Wazuh API read",
                metadata: [
                    "wazuh.api.url": "\(client.configuration.url)", "wazuh.agents": "\(snapshot.count)",
                    "wazuh.api.pages": "\(pages)",
                ])
        }
    }

    private func record(_ error: WazuhAPIError) {
        let failures = healthState.withLock { health in
            health.consecutiveFailures += 1
            health.failedReads += 1
            health.lastError = error.sourceError
            health.lastErrorAt = Date(timeIntervalSince1970: clock.epochSeconds)
            return health.consecutiveFailures
        }
        let metadata: Logger.Metadata = [
            "wazuh.api.url": "\(client.configuration.url)", "wazuh.error": "\(error)",
            "wazuh.consecutive_failures": "\(failures)",
        ]
        if error.code == .inconsistentPages {
            logger.debug("the fleet moved while reading the Wazuh API, reading again", metadata: metadata)
        } else if failures == 1 || failures.isMultiple(of: 100) {
            logger.error("reading the Wazuh API failed, will retry", metadata: metadata)
        }
    }
}
