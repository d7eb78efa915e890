import Logging
import Outbox
import ServiceLifecycle
import WazuhSource
import WireContract

extension GatewayDaemon {
    /// The keys, subjects and sealer the pipeline needs, loaded once at start.
    struct WireSetup {
        var subjects: Subjects
        var signingKey: SigningKey
        var sealer: MessageSealer
    }

    func loadWireSetup() throws(DaemonError) -> WireSetup {
        let security = self.configuration.security
        let subjects: Subjects
        do {
            subjects = try Subjects(prefix: self.configuration.nats.subjectPrefix)
        } catch {
            throw DaemonError(
                code: .invalidSubjectPrefix, message: "nats.subject_prefix cannot be used in subjects",
                underlying: error)
        }
        guard let signingPath = security.signingKeyPath else {
            throw DaemonError(
                code: .keyUnavailable,
                message: "security.signing_key_path is required: every event and batch is signed")
        }
        let signingKey: SigningKey
        do {
            signingKey = try SigningKey(path: signingPath)
        } catch {
            throw DaemonError(
                code: .keyUnavailable, message: "cannot load the signing key \(signingPath)", underlying: error)
        }
        var encryptionKey: EncryptionKey?
        if security.encryptMessages {
            guard let encryptionPath = security.encryptionKeyPath else {
                throw DaemonError(
                    code: .keyUnavailable, message: "security.encrypt_messages needs security.encryption_key_path")
            }
            do {
                encryptionKey = try EncryptionKey(path: encryptionPath)
            } catch {
                throw DaemonError(
                    code: .keyUnavailable, message: "cannot load the encryption key \(encryptionPath)",
                    underlying: error)
            }
        }
        let sealer = MessageSealer(
            compressionMinBytes: self.configuration.delivery.compressionMinBytes, encryptionKey: encryptionKey)
        return WireSetup(subjects: subjects, signingKey: signingKey, sealer: sealer)
    }

    /// How the worker publishes, from `nats.delivery`.
    func deliveryMode(subjects: Subjects) -> DeliveryMode {
        let nats = self.configuration.nats
        switch nats.delivery {
        case .jetstream:
            return .jetstream(
                JetStreamSettings(
                    streamName: nats.stream, subjects: [subjects.all], replicas: nats.streamReplicas,
                    duplicateWindow: nats.duplicateWindow))
        case .request:
            return .request
        case .publish:
            return .publish
        }
    }

    func makeDeliveryWorker(
        outbox: OutboxStore, link: NATSLink, managers: [WatchedManager], wire: WireSetup,
        startedAt: ContinuousClock.Instant
    ) -> (worker: DeliveryWorker, transport: LinkedDeliveryTransport) {
        let delivery = self.configuration.delivery
        let transport = LinkedDeliveryTransport(
            link: link, mode: self.deliveryMode(subjects: wire.subjects),
            ackTimeout: self.configuration.nats.requestTimeout, logger: self.logger.tagged(component: "delivery"))
        let heartbeats = managers.map { manager in
            DaemonHeartbeat(
                subjects: wire.subjects, managerNode: manager.managerNode, signingKey: wire.signingKey,
                sealer: wire.sealer, monitor: manager.source, outbox: outbox, startedAt: startedAt)
        }
        var workerConfiguration = DeliveryWorkerConfiguration(
            maxInFlight: delivery.maxInFlight, pageSize: delivery.batchSize,
            backoff: Backoff(base: delivery.backoffBase, cap: delivery.backoffMax),
            breakerFailureThreshold: delivery.breakerFailureThreshold, breakerCooldown: delivery.breakerCooldown,
            shutdownTimeout: delivery.shutdownTimeout,
            heartbeatInterval: self.configuration.monitoring.heartbeatInterval,
            retention: self.configuration.outbox.retention, maxOutboxBytes: self.configuration.outbox.maxBytes)
        workerConfiguration.auditLog = self.configuration.outbox.audit
        let worker = DeliveryWorker(
            journal: outbox, transport: transport, sealer: WireDeliverySealer(sealer: wire.sealer),
            configuration: workerConfiguration,
            observer: MetricsDeliveryObserver(metrics: self.metrics, dashboard: self.dashboard),
            heartbeats: heartbeats.map { heartbeat in { status in try heartbeat.message(for: status) } },
            logger: self.logger.tagged(component: "delivery"))
        return (worker, transport)
    }

    /// Source → outbox: reads `global.db` on change notifications (poll fallback), journals each
    /// diff with its snapshot in one transaction, wakes the worker.
    func makeDetectionService(
        manager: WatchedManager, wire: WireSetup, wakeSignal: DeliveryWakeSignal
    ) -> DetectionService {
        let encoder = DetectionEncoder(
            mapper: AgentEventMapper(managerNode: manager.managerNode), subjects: wire.subjects,
            signingKey: wire.signingKey, scope: manager.scope)
        let metrics = self.metrics
        let thresholds = self.configuration.anomaly
        let rateLimit = self.configuration.rateLimit
        let anomalies =
            thresholds.enabled || rateLimit.perAgent > 0
            ? AnomalyJournal(
                encoder: AnomalyEncoder(
                    subjects: wire.subjects, signingKey: wire.signingKey,
                    managerNode: manager.managerNode, windowSeconds: thresholds.windowSeconds, scope: manager.scope),
                thresholds: thresholds,
                rateLimit: AgentRateLimiter(
                    limit: rateLimit.perAgent, windowSeconds: max(1, rateLimit.window.components.seconds)),
                metrics: self.metrics, logger: manager.logger.tagged(component: "anomaly")) : nil
        let dashboard = self.dashboard
        let node = manager.managerNode
        let readiness = self.readiness
        return DetectionService(
            monitor: manager.source, store: manager.journal, encoder: encoder, wakeSignal: wakeSignal,
            onJournaled: { changes in
                var byType: [String: Int] = [:]
                for change in changes { byType[change.kind.rawValue, default: 0] += 1 }
                for (type, count) in byType { metrics.eventDetected(type: type, count: count) }
                dashboard.recordTransitions(changes, manager: node)
            },
            onConfirmedSnapshot: { snapshot in
                dashboard.recordFleet(
                    counts: snapshot.counts, nodes: snapshot.countsPerNode(unnamed: "-"), manager: node)
            },
            onJournalHealth: { cause in
                if let cause {
                    metrics.outboxWriteErrors.increment()
                    metrics.detectionPaused.record(1)
                    readiness.recordOutboxWriteFailure(cause)
                } else {
                    metrics.detectionPaused.record(0)
                    readiness.recordOutboxWriteSuccess()
                }
            },
            anomalies: anomalies,
            logger: manager.logger.tagged(component: "detection"))
    }
}
