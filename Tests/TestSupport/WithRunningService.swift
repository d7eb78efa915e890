import Logging
import ServiceLifecycle

/// Runs `service` in its own service group until `body` returns, then shuts it down gracefully and waits for it
/// (also when `body` throws): how tests and benchmarks run one daemon service.
public func withRunningService<T>(
    _ service: some Service, logger: Logger, isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: [service], logger: logger))
    let task = Task { try await group.run() }
    do {
        let result = try await body()
        await group.triggerGracefulShutdown()
        try await task.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        throw error
    }
}
