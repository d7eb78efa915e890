import Foundation
import Outbox
import Timekeeping
import WazuhSource
import WireContract

/// Builds the periodic heartbeat the delivery worker publishes (not journaled) on
/// `{prefix}.manager.{node}.heartbeat`: version, uptime, NATS state, outbox depth and age, and the
/// fleet counts of the last successful read of `global.db`. Signed, then sealed like any message;
/// its `Nats-Msg-Id` is `heartbeat:{node}:{epoch ms}`.
public struct DaemonHeartbeat: Sendable {
    private let subjects: Subjects
    private let managerNode: String
    private let signingKey: SigningKey
    private let sealer: MessageSealer
    private let monitor: any AgentStatusSourcing
    private let outbox: OutboxStore
    private let startedAt: ContinuousClock.Instant

    public init(
        subjects: Subjects, managerNode: String, signingKey: SigningKey, sealer: MessageSealer,
        monitor: any AgentStatusSourcing, outbox: OutboxStore, startedAt: ContinuousClock.Instant
    ) {
        self.outbox = outbox
        self.subjects = subjects
        self.managerNode = managerNode
        self.signingKey = signingKey
        self.sealer = sealer
        self.monitor = monitor
        self.startedAt = startedAt
    }

    /// One heartbeat for the worker's current status.
    public func message(for status: DeliveryStatus) throws -> OutgoingMessage? {
        let counts = self.monitor.health.counts
        let nowMilliseconds = SystemClock.epochMilliseconds()
        let heartbeat = Heartbeat(
            gatewayVersion: GatewayDaemon.version,
            uptimeSeconds: (ContinuousClock.now - self.startedAt).components.seconds,
            natsState: status.connectionState,
            outboxDepth: Int64(status.outboxDepth),
            outboxParked: Int64((try? self.outbox.parkedCount()) ?? status.parkedTotal),
            oldestPendingAgeSeconds: status.oldestPendingAgeSeconds,
            fleet: WireContract.FleetCounts(
                totalAgents: counts.total, activeAgents: counts.active, disconnectedAgents: counts.disconnected,
                pendingAgents: counts.pending, neverConnectedAgents: counts.neverConnected),
            timestamp: WireTimestamp.string(unixSeconds: nowMilliseconds / 1000),
            managerNode: self.managerNode,
            auditHead: status.auditHead ?? (try? self.outbox.auditHead())
        ).signed(with: self.signingKey)
        let subject = self.subjects.heartbeat(node: self.managerNode)
        let sealed = try self.sealer.seal(
            subject: subject, signedPayload: heartbeat.canonicalJSON(),
            messageID: "heartbeat:\(Subjects.nodeToken(self.managerNode)):\(nowMilliseconds)")
        return OutgoingMessage(
            subject: sealed.subject, headers: sealed.headers.map { OutgoingMessage.Header(name: $0.0, value: $0.1) },
            payload: sealed.payload)
    }
}
