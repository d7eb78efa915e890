import Foundation
import Gateway
import Logging
import NATSClient
import Outbox
import WazuhSimulator
import WireContract

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `demo` command's logic: a simulated manager, a local nats-server, the gateway and the sample
/// subscriber on one machine.
///
/// Steps: create the state directory (keys are kept between runs; the simulated database, outbox,
/// stream store and logs are started afresh), generate signing and encryption keys (0600), write
/// `gateway.yaml` (``DemoConfigurationFile``: `config/demo.yaml` with absolute paths and free ports), start `nats-server` with
/// JetStream on 127.0.0.1, create the simulated global.db and drive it with ``DemoScript``, start the
/// gateway as a child process (`<gatewayExecutable> run --config gateway.yaml`), print every verified
/// message as it arrives, and after `duration` or cancellation stop everything in order: simulator,
/// gateway (SIGTERM, so it drains), subscriber, nats-server. Children run in their own process group.
public struct DemoRun: Sendable {
    public var stateDirectory: String
    public var agents: Int
    /// `nil` runs until the task is cancelled (Ctrl-C).
    public var duration: Duration?
    /// The executable that has the `run` subcommand (normally this program, `/proc/self/exe`).
    public var gatewayExecutable: String
    public var format: SubscriberRun.OutputFormat
    public var environment: [String: String]
    /// 1, or 2 for a second simulated manager read through its REST API (``DemoAPIManager``).
    public var managers = 1
    public var logger: Logger

    public init(
        stateDirectory: String = "demo-state", agents: Int = 20, duration: Duration? = nil,
        gatewayExecutable: String, format: SubscriberRun.OutputFormat = .compact,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        logger: Logger = Logger(label: "demo", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.stateDirectory = stateDirectory
        self.agents = agents
        self.duration = duration
        self.gatewayExecutable = gatewayExecutable
        self.format = format
        self.environment = environment
        self.logger = logger
    }

    /// What the demo did.
    public struct Report: Sendable, Hashable {
        /// Agent events journaled by the gateway (outbox rows of kind `event`).
        public var eventsDetected = 0
        /// Outbox rows the server acknowledged.
        public var messagesPublished = 0
        /// Messages the subscriber received and verified / failed to verify.
        public var messagesVerified = 0
        public var messagesFailed = 0
        /// Verified agent events on `{prefix}.agent.{id}.status`.
        public var statusEventsVerified = 0
        /// The gateway read wazuh-db's socket, and changes it saw there before global.db had them.
        public var statusFromSocket = false
        public var changesSeenBeforeFile = 0
        public var gatewayExitStatus: Int32?
        public var natsServerExitStatus: Int32?
        /// Agent events journaled, by manager (`demo-manager`, and `demo-manager-2` with two).
        public var eventsByManager: [String: Int] = [:]
        /// Process ids of the children (all stopped when ``DemoRun/run(output:notice:)`` returns).
        public var childProcessIDs: [Int32] = []

        public init() {}
    }

    /// Runs the demo. `output` gets the subscriber's lines, `notice` progress and the summary.
    public func run(output: @escaping @Sendable (String) -> Void, notice: @escaping @Sendable (String) -> Void)
        async throws(OperatorCommandError) -> Report
    {
        guard (1...10_000).contains(self.agents) else {
            throw OperatorCommandError(.invalidArgument, "--agents must be between 1 and 10000")
        }
        guard let natsServer = DemoNATSServer.locate(environment: self.environment) else {
            throw OperatorCommandError(.processFailure, DemoNATSServer.installAdvice)
        }
        guard access(self.gatewayExecutable, X_OK) == 0 else {
            throw OperatorCommandError(.processFailure, "gateway executable \(self.gatewayExecutable) is not runnable")
        }
        guard (1...2).contains(self.managers) else {
            throw OperatorCommandError(.invalidArgument, "--managers must be 1 or 2")
        }
        let layout = Layout(root: Self.absolute(self.stateDirectory))
        try self.prepare(layout)
        let port = try DemoNATSServer.freePort()
        // A fixed free port (not 0) so the dashboard's URL can be printed.
        let httpPort = try DemoNATSServer.freePort()
        let second = self.managers == 2 ? DemoAPIManager(root: layout.root) : nil
        let apiPort = try second.map { manager throws(OperatorCommandError) in
            try manager.prepare()
            return try DemoNATSServer.freePort()
        }
        do {
            try DemoNATSServer.configuration(port: port, storeDirectory: layout.jetStream)
                .write(toFile: layout.natsConfig, atomically: true, encoding: .utf8)
            var text = DemoConfigurationFile.rendered(root: layout.root, natsPort: port, httpPort: httpPort)
            if let second, let apiPort {
                text = second.managersSection(replacingWazuhSectionOf: text, apiPort: apiPort)
            }
            try text.write(toFile: layout.gatewayConfig, atomically: true, encoding: .utf8)
        } catch {
            throw OperatorCommandError(.processFailure, "cannot write the demo configuration: \(error)")
        }

        var report = Report()
        let nats = try DemoChildProcess.spawn(
            name: "nats-server", executable: natsServer, arguments: ["-c", layout.natsConfig], logPath: layout.natsLog)
        report.childProcessIDs.append(nats.pid)
        notice("demo: nats-server (pid \(nats.pid)) on nats://127.0.0.1:\(port), log \(layout.natsLog)")

        // Everything after this point must end with the cleanup below, whatever happens.
        let stages = Stages(nats: nats)
        do throws(OperatorCommandError) {
            if let second, let apiPort {
                try await self.startAPIManager(second, port: apiPort, stages: stages, notice: notice)
            }
            try await self.runStages(
                layout: layout, port: port, httpPort: httpPort, stages: stages, report: &report, output: output,
                notice: notice)
        } catch {
            report = await self.cleanup(stages, layout: layout, report: report, notice: notice)
            throw error
        }
        return await self.cleanup(stages, layout: layout, report: report, notice: notice)
    }

    private func runStages(
        layout: Layout, port: Int, httpPort: Int, stages: Stages, report: inout Report,
        output: @escaping @Sendable (String) -> Void,
        notice: @escaping @Sendable (String) -> Void
    ) async throws(OperatorCommandError) {
        let clock = ContinuousClock()
        let natsDeadline = clock.now + .seconds(10)
        while !DemoNATSServer.accepts(port: port) {
            if let status = stages.nats.exitStatus() {
                throw OperatorCommandError(
                    .processFailure, "nats-server exited with status \(status); see \(layout.natsLog)")
            }
            guard clock.now < natsDeadline else {
                throw OperatorCommandError(
                    .processFailure, "nats-server did not listen within 10s; see \(layout.natsLog)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }

        // The simulated manager: created before the gateway starts, then driven in the background.
        let (created, createdContinuation) = AsyncStream<Result<Void, OperatorCommandError>>.makeStream()
        let agents = self.agents
        let database = layout.database
        let socket = layout.socket
        let logger = self.logger
        stages.simulator = Task {
            let simulator: WazuhSimulator
            do {
                simulator = try WazuhSimulator(
                    configuration: WazuhSimulator.Configuration(
                        databasePath: database, agentCount: agents, seed: UInt64(Date().timeIntervalSince1970),
                        commitIdle: .milliseconds(500), commitMaxAge: .seconds(2), reconnectPeriod: .seconds(20),
                        managerName: "demo-manager"),
                    logger: logger)
            } catch {
                createdContinuation.yield(
                    .failure(OperatorCommandError(.processFailure, "cannot create the simulated global.db: \(error)")))
                createdContinuation.finish()
                return
            }
            // wazuh-db's socket beside global.db: the gateway reads the open transaction through it.
            let server = try? simulator.serveWazuhDB(at: socket)
            defer { server?.stop() }
            createdContinuation.yield(.success(()))
            createdContinuation.finish()
            var script = DemoScript()
            let start = ContinuousClock.now
            defer { try? simulator.close() }
            while !Task.isCancelled {
                let elapsed = Int((ContinuousClock.now - start).components.seconds)
                try script.advance(simulator, elapsedSeconds: elapsed)
                do {
                    try await Task.sleep(for: .milliseconds(200))
                } catch {
                    break
                }
            }
            try simulator.commit()
        }
        for await result in created {
            try result.get()
        }
        notice("demo: simulated Wazuh 4.14 manager with \(self.agents) agents at \(layout.database)")

        // The subscriber listens before the gateway starts, so it sees the first message.
        let configuration = try SubscriberConnection.loadConfiguration(
            path: layout.gatewayConfig, environment: [:])
        let connection = try await SubscriberConnection.connect(
            configuration, clientName: "wazuh-nats-gateway demo subscriber", logger: self.logger)
        stages.connection = connection
        let subscriber = try SubscriberRun(
            configuration: configuration, options: SubscriberRun.Options(format: self.format), logger: self.logger)
        let (subscribed, subscribedContinuation) = AsyncStream<Void>.makeStream()
        stages.subscriber = Task {
            defer { subscribedContinuation.finish() }
            return try await subscriber.run(
                on: connection, output: output, onSubscribed: { subscribedContinuation.finish() })
        }
        for await _ in subscribed {}

        let gateway = try DemoChildProcess.spawn(
            name: "gateway", executable: self.gatewayExecutable, arguments: ["run", "--config", layout.gatewayConfig],
            logPath: layout.gatewayLog)
        stages.gateway = gateway
        report.childProcessIDs.append(gateway.pid)
        notice("demo: gateway (pid \(gateway.pid)) started, log \(layout.gatewayLog)")
        notice("demo: dashboard at http://127.0.0.1:\(httpPort)/ (live while the demo runs)")
        notice("demo: verified messages follow\(self.duration == nil ? "; Ctrl-C stops the demo" : "")")

        let end = self.duration.map { clock.now + $0 }
        while !Task.isCancelled {
            if let status = gateway.exitStatus() {
                report.gatewayExitStatus = status
                throw OperatorCommandError(
                    .processFailure, "the gateway exited early with status \(status); see \(layout.gatewayLog)")
            }
            if let end, clock.now >= end { break }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Stops everything in order and completes the report. Runs in a fresh task so that waiting works
    /// even when the demo's task was cancelled by Ctrl-C.
    private func cleanup(
        _ stages: Stages, layout: Layout, report: Report, notice: @escaping @Sendable (String) -> Void
    ) async -> Report {
        await Task {
            var report = report
            for simulator in [stages.simulator, stages.apiManager].compactMap({ $0 }) {
                simulator.cancel()
                _ = try? await simulator.value
            }
            if let gateway = stages.gateway {
                var status = report.gatewayExitStatus ?? -1
                if report.gatewayExitStatus == nil {
                    status = await gateway.stop(grace: .seconds(20))
                }
                report.gatewayExitStatus = status
                notice("demo: gateway stopped (exit status \(status))")
                let source = DemoSourceSummary(logPath: layout.gatewayLog)
                report.statusFromSocket = source.readThroughSocket
                report.changesSeenBeforeFile = source.changesBeforeFile
                notice(source.line)
            }
            if let subscriber = stages.subscriber {
                // The gateway's last deliveries are on their way: give them a moment.
                try? await Task.sleep(for: .milliseconds(500))
                subscriber.cancel()
                if let seen = try? await subscriber.value {
                    report.messagesVerified = seen.verified
                    report.messagesFailed = seen.failed
                    report.statusEventsVerified = seen.eventsByChannel["status"] ?? 0
                }
            }
            if let connection = stages.connection {
                await connection.close()
            }
            report.natsServerExitStatus = await stages.nats.stop(grace: .seconds(5))
            if FileManager.default.fileExists(atPath: layout.outbox),
                let reader = try? OutboxReader(path: layout.outbox)
            {
                if let stats = try? reader.stats() {
                    report.messagesPublished = stats.delivered
                }
                var selection = ReplaySelection(kinds: [.event], includeUndelivered: true)
                selection.agents = []
                let events = (try? selection.entries(in: reader, deliveredOnly: false)) ?? []
                report.eventsDetected = events.count
                report.eventsByManager = DemoManagerSummary.eventsByManager(
                    events.map(\.message.eventID), unscopedNode: "demo-manager")
                try? reader.close()
            }
            if self.managers > 1 {
                notice(DemoManagerSummary.line(report.eventsByManager))
            }
            notice(
                "demo: \(report.eventsDetected) events detected, \(report.messagesPublished) messages published, "
                    + "\(report.messagesVerified) verified by the subscriber (\(report.messagesFailed) failed); "
                    + "state in \(layout.root)")
            return report
        }.value
    }
}
