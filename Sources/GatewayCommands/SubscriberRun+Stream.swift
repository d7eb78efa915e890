import Gateway
import Logging
import NATSClient

extension SubscriberRun {
    /// From the stream, through a JetStream pull consumer (see ``StreamConsumerPlan``): an ephemeral one,
    /// or the durable `durable` whose place is kept by acknowledging each message once it is verified and
    /// printed. Without `follow` reading stops at the last message stored when it began; with `follow` it
    /// goes on as messages are stored, the consumer keeping pull requests outstanding (no polling).
    ///
    /// Without `follow` a failure ends the run with an error. With `follow` it is logged and the consumer
    /// opened again after the longest pause (from after the last message handled), so a reconnect, a
    /// server restart or a re-created stream does not end a follower.
    func readStream(_ connection: NATSConnection, filter: String, output: @Sendable (String) -> Void)
        async throws(OperatorCommandError) -> Report
    {
        let context = connection.jetStream(timeout: self.requestTimeout)
        let info: StreamInfo
        do {
            info = try await context.streamInfo(name: self.streamName)
        } catch {
            throw OperatorCommandError(.natsFailure, "cannot read stream \(self.streamName): \(error)")
        }
        var plan = StreamConsumerPlan(
            durableName: self.options.durable, fromSequence: self.options.fromSequence, since: self.options.since,
            filterSubject: self.options.subject, follow: self.options.follow, streamLastSequence: info.state.lastSeq)
        var report = Report()
        var failing = false
        var ephemeral: String?
        reading: while !Task.isCancelled {
            let consumer: ConsumerInfo
            do {
                consumer = try await self.openConsumer(context, plan: &plan, opened: ephemeral != nil)
            } catch {
                if Task.isCancelled { break }
                guard self.options.follow else {
                    throw OperatorCommandError(
                        .natsFailure, "cannot open a consumer on stream \(self.streamName): \(error)")
                }
                self.streamFailed(error, alreadyFailing: &failing)
                guard await Self.pause(self.options.pollInterval) else { break }
                continue
            }
            if plan.durableName == nil { ephemeral = consumer.name }
            if plan.isDone(consumerPending: consumer.numPending) { break }
            do {
                for try await message in context.messages(
                    stream: self.streamName, consumer: consumer.name, settings: self.pullSettings,
                    onEvent: self.logPullEvent)
                {
                    self.streamRecovered(&failing)
                    let done = plan.handled(message.metadata)
                    let headers = (message.headers ?? NATSHeaders()).map { ($0.name, $0.value) }
                    let stop =
                        Self.subject(message.subject, matches: filter)
                        && self.handle(
                            subject: message.subject, headers: headers,
                            payload: Array(message.payload.readableBytesView),
                            streamSequence: message.metadata.streamSequence, report: &report, output: output)
                    if plan.durableName != nil {
                        try await message.ack()
                    }
                    if stop || done { break reading }
                }
                break  // cancelled
            } catch {
                if Task.isCancelled { break }
                guard self.options.follow else {
                    throw OperatorCommandError(
                        .natsFailure, "cannot read from stream \(self.streamName): \(error)")
                }
                self.streamFailed(error, alreadyFailing: &failing)
                guard await Self.pause(self.options.pollInterval) else { break }
            }
        }
        if plan.durableName != nil {
            try? await connection.flush(timeout: self.requestTimeout)  // the last acknowledgements
        } else if let ephemeral {
            // Also when cancelled (Ctrl-C); otherwise the server removes it once it has been idle a while.
            let cleanup = connection.jetStream(timeout: min(self.requestTimeout, .seconds(1)))
            await Task { [streamName = self.streamName] in
                try? await cleanup.deleteConsumer(stream: streamName, name: ephemeral)
            }.value
        }
        return report
    }

    /// Pull requests: batches of 256 (no more than `count` in all), heartbeats every 5 s, or ten times
    /// the longest pause when that is shorter (at least one second).
    private var pullSettings: PullFlow.Settings {
        let heartbeat = min(.seconds(5), max(.seconds(1), self.options.pollInterval * 10))
        return PullFlow.Settings(
            batch: min(256, self.options.count ?? 256), expires: heartbeat * 6, heartbeat: heartbeat,
            maxMessages: self.options.count)
    }

    /// The durable consumer as it is (created when missing), or a new ephemeral one; when opening it again,
    /// after the stream was deleted and re-created, from the stream's first message.
    private func openConsumer(_ context: JetStreamContext, plan: inout StreamConsumerPlan, opened: Bool)
        async throws -> ConsumerInfo
    {
        if let durable = plan.durableName {
            do {
                return try await context.consumerInfo(stream: self.streamName, name: durable)
            } catch let error as JetStreamAPIError where error.errorCode == JetStreamAPIError.consumerNotFound {
                return try await context.createConsumer(stream: self.streamName, config: plan.consumerConfig)
            }
        }
        if opened {
            let state = try await context.streamInfo(name: self.streamName).state
            if plan.streamLastSequence(state.lastSeq) {
                self.logger.warning(
                    "the stream's sequence went back (deleted and re-created?); reading it from its first message",
                    metadata: ["nats.stream": "\(self.streamName)"])
            }
        }
        return try await context.createConsumer(stream: self.streamName, config: plan.consumerConfig)
    }

    /// Connection trouble the consumer rides out, logged like a failed read and its recovery.
    private var logPullEvent: @Sendable (PullConsumerEvent) -> Void {
        { [logger = self.logger, stream = self.streamName] event in
            let metadata: Logger.Metadata = ["nats.stream": "\(stream)", "subscribe.event": "\(event)"]
            switch event {
            case .disconnected:
                logger.warning("reading the stream failed; still following, retrying", metadata: metadata)
            case .reconnected:
                logger.warning("reading the stream again", metadata: metadata)
            case .heartbeatsMissed, .consumerUnavailable:
                logger.info("the stream's consumer did not answer; asking again", metadata: metadata)
            }
        }
    }

    /// Sleeps `duration`; `false` when cancelled.
    private static func pause(_ duration: Duration) async -> Bool {
        do {
            try await Task.sleep(for: duration)
            return true
        } catch {
            return false
        }
    }

    /// Logs the first failure of a run of failures (the rest at debug level).
    private func streamFailed(_ error: any Error, alreadyFailing: inout Bool) {
        let metadata: Logger.Metadata = ["nats.stream": "\(self.streamName)", "error": "\(error)"]
        if alreadyFailing {
            self.logger.debug("reading the stream failed again", metadata: metadata)
        } else {
            self.logger.warning("reading the stream failed; still following, retrying", metadata: metadata)
        }
        alreadyFailing = true
    }

    private func streamRecovered(_ failing: inout Bool) {
        guard failing else { return }
        failing = false
        self.logger.warning("reading the stream again", metadata: ["nats.stream": "\(self.streamName)"])
    }
}
