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
            } catch {
                logger.warning("heartbeat not published", metadata: ["delivery.error": "\(transport.classify(error))"])
            }
        }
    }
}
