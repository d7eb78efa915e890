import Foundation
import Logging
import NATSClient
import NATSTestSupport
import Prometheus
import Synchronization
import Testing
import WazuhSimulator
import WireContract

@testable import Gateway

/// One verified message read back from the JetStream stream.
struct StoredEvent: Sendable {
    var streamSequence: UInt64
    var subject: String
    var messageID: String?
    var opened: OpenedMessage

    var event: AgentStatusEvent? {
        if case .event(let event, _) = self.opened { return event }
        return nil
    }
}

/// Everything an end-to-end daemon test needs: a temp dir with a simulated `global.db`, a signing
/// key, a real nats-server with JetStream, and a configuration pointing at them (HTTP on port 0).
final class DaemonHarness: Sendable {
    private let temporary: TemporaryDirectory
    let directory: String
    let databasePath: String
    let signingKeyPath: String
    let server: NATSServerProcess
    let configuration: GatewayConfiguration
    let logs = LogCapture()

    init(agentCount: Int = 20, configure: (inout GatewayConfiguration) -> Void = { _ in }) throws {
        self.temporary = try TemporaryDirectory(prefix: "daemon-tests")
        let directory = self.temporary.path
        self.directory = directory
        self.databasePath = directory + "/global.db"
        self.signingKeyPath = directory + "/keys/signing.key"
        try FileManager.default.createDirectory(
            atPath: directory + "/keys", withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        _ = try KeyFile.generate(path: self.signingKeyPath, bytes: 32)
        self.server = try NATSServerProcess(jetStream: true)
        var configuration = GatewayConfiguration(managerNode: "manager-e2e", natsURL: self.server.url)
        configuration.wazuh.explicitDBPath = self.databasePath
        configuration.wazuh.pollInterval = .milliseconds(200)
        configuration.nats.reconnectDelay = .milliseconds(100)
        configuration.nats.maxReconnects = -1
        configuration.nats.requestTimeout = .seconds(2)
        configuration.security.signingKeyPath = self.signingKeyPath
        configuration.outbox.path = directory + "/state/outbox.db"
        configuration.delivery.shutdownTimeout = .seconds(5)
        configuration.delivery.backoffBase = .milliseconds(50)
        configuration.delivery.backoffMax = .milliseconds(500)
        configuration.delivery.breakerCooldown = .milliseconds(500)
        configuration.monitoring.metricsPort = 0
        configuration.monitoring.heartbeatInterval = .seconds(1)
        configure(&configuration)
        self.configuration = configuration
    }

    /// A simulator writing `global.db` (created here, committed, with `agentCount` agents).
    func makeSimulator(agentCount: Int = 20, replaceExisting: Bool = true) throws -> WazuhSimulator {
        try WazuhSimulator(
            configuration: .init(
                databasePath: self.databasePath, agentCount: agentCount, commitIdle: .milliseconds(50),
                commitMaxAge: .milliseconds(200), replaceExisting: replaceExisting))
    }

    func opener() throws -> MessageOpener {
        try MessageOpener(
            subjects: Subjects(prefix: self.configuration.nats.subjectPrefix),
            signingKey: SigningKey(path: self.signingKeyPath))
    }

    /// Every message in the stream, opened and verified, in stream order.
    func storedMessages() async throws -> [StoredEvent] {
        let connection = try await NATSConnection.connect(options: NATSConnectionOptions(url: self.server.url))
        do {
            let messages = try await self.storedMessages(over: connection)
            await connection.close()
            return messages
        } catch {
            await connection.close()
            throw error
        }
    }

    private func storedMessages(over connection: NATSConnection) async throws -> [StoredEvent] {
        let jetStream = connection.jetStream(timeout: .seconds(5))
        let info: StreamInfo
        do {
            info = try await jetStream.streamInfo(name: self.configuration.nats.stream)
        } catch {
            // The stream does not exist before the first delivery.
            return []
        }
        guard info.state.messages > 0, info.state.lastSeq >= info.state.firstSeq else { return [] }
        let opener = try self.opener()
        var result: [StoredEvent] = []
        for sequence in info.state.firstSeq...info.state.lastSeq {
            let message = try await jetStream.getMessage(stream: self.configuration.nats.stream, sequence: sequence)
            let headers = message.headers.map { $0.map { ($0.name, $0.value) } } ?? []
            let opened = try opener.open(subject: message.subject, headers: headers, payload: message.payload)
            result.append(
                StoredEvent(
                    streamSequence: sequence, subject: message.subject,
                    messageID: headers.first { $0.0 == "Nats-Msg-Id" }?.1, opened: opened))
        }
        return result
    }

    /// Runs a daemon over this harness until `shutdown` is called.
    func startDaemon(
        readinessAge: Duration = .seconds(2),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) -> RunningDaemon {
        let bound = Mutex<Int?>(nil)
        let daemon = GatewayDaemon(
            configuration: self.configuration, registry: registry,
            metricsFactory: GatewayMetrics.makePrometheusFactory(registry: registry),
            readiness: GatewayReadiness(maximumSourceAge: readinessAge),
            options: .init(
                configurationPath: nil, handleSignals: false, statusInterval: .milliseconds(100),
                onMonitoringBound: { port in bound.withLock { $0 = port } }),
            logger: self.logs.logger())
        let finished = FinishedFlag()
        let task = Task {
            defer { finished.set() }
            try await daemon.run()
        }
        return RunningDaemon(
            daemon: daemon, task: task, finished: finished, bound: { bound.withLock { $0 } })
    }
}

/// A daemon running in-process; `shutdown()` drains it like SIGTERM would.
struct RunningDaemon: Sendable {
    let daemon: GatewayDaemon
    let task: Task<Void, any Error>
    let finished: FinishedFlag
    let bound: @Sendable () -> Int?

    func port() async throws -> Int {
        try await eventually("the monitoring server to listen") { self.bound() != nil }
        return try #require(self.bound())
    }

    func get(_ path: String) async throws -> LoopbackHTTP.Reply {
        try await LoopbackHTTP.get(port: try await self.port(), path: path)
    }

    /// Shuts down gracefully and waits (bounded) for `run()` to return.
    func shutdown(within limit: Duration = .seconds(15)) async throws {
        await self.daemon.shutdownGracefully()
        let started = ContinuousClock.now
        try await eventually("the daemon to stop", timeout: limit) {
            self.finished.isSet
        }
        try await self.task.value
        #expect(ContinuousClock.now - started < limit)
    }
}

/// Set once when a daemon's `run()` returned.
final class FinishedFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() { self.flag.store(true, ordering: .sequentiallyConsistent) }

    var isSet: Bool { self.flag.load(ordering: .sequentiallyConsistent) }
}
