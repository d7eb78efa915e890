#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

extension DeliveryWorker {
    // MARK: - Heartbeats

    func heartbeatLoop(interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
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

    static func epochMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
