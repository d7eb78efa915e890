import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Counts termination signals alongside the `ServiceGroup`: the first SIGTERM/SIGINT starts the
/// graceful shutdown (the group handles it and the daemon only logs it); a **second** one ends the
/// process at once with `128 + signal` (143 for SIGTERM, 130 for SIGINT), leaving whatever was not
/// delivered journaled in the outbox for the next start.
///
/// Only the executable installs it: exiting is never right inside a test process.
public final class SignalEscalation: Sendable {
    private struct State {
        var sources: [any DispatchSourceSignal] = []
        var received = 0
    }

    private let signals: [Int32]
    private let logger: Logger
    private let terminate: @Sendable (Int32) -> Void
    private let state = Mutex(State())
    private static let queue = DispatchQueue(label: "wazuh-nats-gateway.signals")

    /// - Parameters:
    ///   - terminate: ends the process with the given status; the default calls `exit`.
    public init(
        signals: [Int32] = [SIGTERM, SIGINT], logger: Logger,
        terminate: @escaping @Sendable (Int32) -> Void = { status in exit(status) }
    ) {
        self.signals = signals
        self.logger = logger
        self.terminate = terminate
    }

    /// Starts counting. Call before the `ServiceGroup` runs.
    public func start() {
        self.state.withLock { state in
            for number in self.signals {
                let source = DispatchSource.makeSignalSource(signal: number, queue: Self.queue)
                source.setEventHandler { [self] in
                    self.received(number)
                }
                source.resume()
                state.sources.append(source)
            }
        }
    }

    /// Stops counting (the process is about to exit normally).
    public func stop() {
        let sources = self.state.withLock { state in
            defer { state.sources = [] }
            return state.sources
        }
        for source in sources {
            source.cancel()
        }
    }

    /// How many signals arrived so far.
    public var receivedCount: Int {
        self.state.withLock { $0.received }
    }

    func received(_ number: Int32) {
        let count = self.state.withLock { state in
            state.received += 1
            return state.received
        }
        if count == 1 {
            self.logger.notice(
                "termination signal received; stopping detection and draining the outbox",
                metadata: ["signal": "\(Self.name(number))"])
        } else {
            self.logger.warning(
                "second termination signal received; exiting now, undelivered events stay journaled",
                metadata: ["signal": "\(Self.name(number))", "exit_status": "\(128 + number)"])
            self.terminate(128 + number)
        }
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(number)"
        }
    }
}
