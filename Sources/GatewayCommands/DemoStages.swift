import Gateway
import NATSClient
import Synchronization

extension DemoRun {
    /// What is running, for the cleanup (which must also stop what was started before an error).
    final class Stages: Sendable {
        private struct Running {
            var gateway: DemoChildProcess?
            var simulator: Task<Void, any Error>?
            var apiManager: Task<Void, any Error>?
            var subscriber: Task<SubscriberRun.Report, any Error>?
            var connection: NATSConnection?
        }

        private let running = Mutex(Running())
        let nats: DemoChildProcess

        init(nats: DemoChildProcess) { self.nats = nats }

        var gateway: DemoChildProcess? {
            get { self.running.withLock { $0.gateway } }
            set { self.running.withLock { $0.gateway = newValue } }
        }
        var simulator: Task<Void, any Error>? {
            get { self.running.withLock { $0.simulator } }
            set { self.running.withLock { $0.simulator = newValue } }
        }
        var apiManager: Task<Void, any Error>? {
            get { self.running.withLock { $0.apiManager } }
            set { self.running.withLock { $0.apiManager = newValue } }
        }
        var subscriber: Task<SubscriberRun.Report, any Error>? {
            get { self.running.withLock { $0.subscriber } }
            set { self.running.withLock { $0.subscriber = newValue } }
        }
        var connection: NATSConnection? {
            get { self.running.withLock { $0.connection } }
            set { self.running.withLock { $0.connection = newValue } }
        }
    }
}
