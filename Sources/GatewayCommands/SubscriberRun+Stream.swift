import Gateway
import Logging
import NATSClient

extension SubscriberRun {
    /// From the stream: sequence by sequence (`$JS.API.STREAM.MSG.GET`) from `fromSequence` or the first
    /// stored message up to the last one stored when reading began; with `follow`, then on, looking at
    /// the stream's state (`$JS.API.STREAM.INFO`) after a pause whenever it is caught up.
    ///
    /// Without `follow` a failing request ends the run with an error. With `follow` it is logged and
    /// retried after the longest pause, so a reconnect or a re-created stream does not end a follower.
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
        var cursor = StreamCursor(
            firstSequence: info.state.firstSeq, lastSequence: info.state.lastSeq,
            fromSequence: self.options.fromSequence, longestPause: self.options.pollInterval)
        var report = Report()
        var failing = false
        while !Task.isCancelled {
            if case .read(let sequence) = cursor.step {
                let stored: StoredMessage?
                do {
                    stored = try await context.getMessage(stream: self.streamName, sequence: sequence)
                } catch let error as JetStreamAPIError
                    where error.code == 404 && error.errorCode != JetStreamAPIError.streamNotFound
                {
                    stored = nil  // deleted or expired in the meantime
                } catch {
                    if Task.isCancelled { break }
                    guard self.options.follow else {
                        throw OperatorCommandError(
                            .natsFailure, "cannot read message \(sequence) of stream \(self.streamName): \(error)")
                    }
                    self.streamFailed(error, sequence: sequence, alreadyFailing: &failing, cursor: &cursor)
                    guard await Self.pause(cursor.pause) else { break }
                    continue
                }
                self.streamRecovered(&failing)
                cursor.advance()
                guard let stored, Self.subject(stored.subject, matches: filter) else { continue }
                let headers = (stored.headers ?? NATSHeaders()).map { ($0.name, $0.value) }
                if self.handle(
                    subject: stored.subject, headers: headers, payload: stored.payload, streamSequence: sequence,
                    report: &report, output: output)
                {
                    break
                }
                continue
            }
            guard self.options.follow, await Self.pause(cursor.pause) else { break }
            let state: StreamInfo.State
            do {
                state = try await context.streamInfo(name: self.streamName).state
            } catch {
                if Task.isCancelled { break }
                self.streamFailed(error, sequence: nil, alreadyFailing: &failing, cursor: &cursor)
                continue
            }
            self.streamRecovered(&failing)
            switch cursor.refreshed(firstSequence: state.firstSeq, lastSequence: state.lastSeq) {
            case .none:
                break
            case .skipped(let count):
                self.logger.warning(
                    "messages were removed from the stream before they were read",
                    metadata: ["nats.stream": "\(self.streamName)", "subscribe.skipped": "\(count)"])
            case .restarted:
                self.logger.warning(
                    "the stream's sequence went back (deleted and re-created?); reading it from its first message",
                    metadata: ["nats.stream": "\(self.streamName)", "subscribe.next_seq": "\(cursor.next)"])
            }
        }
        return report
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

    /// Logs the first failure of a run of failures (the rest at debug level) and backs off.
    private func streamFailed(
        _ error: any Error, sequence: UInt64?, alreadyFailing: inout Bool, cursor: inout StreamCursor
    ) {
        var metadata: Logger.Metadata = ["nats.stream": "\(self.streamName)", "error": "\(error)"]
        if let sequence { metadata["nats.stream_seq"] = "\(sequence)" }
        if alreadyFailing {
            self.logger.debug("reading the stream failed again", metadata: metadata)
        } else {
            self.logger.warning("reading the stream failed; still following, retrying", metadata: metadata)
        }
        alreadyFailing = true
        cursor.failed()
    }

    private func streamRecovered(_ failing: inout Bool) {
        guard failing else { return }
        failing = false
        self.logger.warning("reading the stream again", metadata: ["nats.stream": "\(self.streamName)"])
    }
}
