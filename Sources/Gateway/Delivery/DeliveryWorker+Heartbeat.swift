import Outbox
import WireContract

/// Heartbeats: a signed status message every `heartbeatInterval` while connected, never journaled.
extension DeliveryWorker {
    func heartbeatLoop(interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await clock.sleep(for: interval)
            } catch {
                return
            }
            guard let heartbeat, transport.isConnected else { continue }
            do {
                guard let message = try heartbeat(status.current) else { continue }
                try await transport.publishUnjournaled(message)
                if configuration.auditLog { try await auditHeartbeat(message) }
            } catch {
                logger.warning("heartbeat not published", metadata: ["delivery.error": "\(transport.classify(error))"])
            }
        }
    }

    /// Once a flush shows the server has the heartbeat, appends it to the audit chain (kind `heartbeat`).
    private func auditHeartbeat(_ message: OutgoingMessage) async throws {
        try await transport.flush()
        let record = AuditedDelivery(
            seq: 0, streamSequence: nil, subject: message.subject, messageID: message.header("Nats-Msg-Id") ?? "",
            payloadSHA256: AuditRecord.sha256(message.payload), kind: .heartbeat)
        if let head = try journal.appendAudit([record], at: clock.epochMilliseconds) {
            status.update { if ($0.auditHead?.sequence ?? 0) < head.sequence { $0.auditHead = head } }
        }
    }
}
