import Foundation
import NATSClient

/// Which JetStream consumer `subscribe --stream` reads through, where it starts, and when a run without
/// `--follow` is done: the decisions without I/O.
///
/// Without a durable name the consumer is ephemeral (no acknowledgements; removed by the server once
/// nobody pulls) and starts at `--from-seq`, at `--since` or at the stream's first message. When it has
/// to be created again (the server lost it, the stream was re-created) it starts right after the last
/// message handled, so nothing is skipped and nothing printed twice. With a durable name the consumer
/// keeps its place in the server: a later run resumes after the last message it acknowledged, and the
/// start options only apply when it is first created.
struct StreamConsumerPlan: Sendable, Hashable {
    /// A durable consumer's acknowledgement deadline: a message printed but not acknowledged (the subscriber
    /// died in between) is delivered again after this long.
    static let durableAckWait: Duration = .seconds(30)

    let durableName: String?
    let fromSequence: UInt64?
    let since: Date?
    /// The subject filter given on the command line, if any.
    let filterSubject: String?
    /// Without `follow`: the stream's last sequence when reading began; reading stops there.
    let endSequence: UInt64?
    /// The last stream sequence handled.
    private(set) var lastHandled: UInt64?

    init(
        durableName: String?, fromSequence: UInt64?, since: Date?, filterSubject: String?, follow: Bool,
        streamLastSequence: UInt64
    ) {
        self.durableName = durableName
        self.fromSequence = fromSequence
        self.since = since
        self.filterSubject = filterSubject
        self.endSequence = follow ? nil : streamLastSequence
    }

    /// The configuration to create the consumer with.
    var consumerConfig: ConsumerConfig {
        let deliver: ConsumerConfig.DeliverPolicy
        if let lastHandled, self.durableName == nil {
            deliver = .byStartSequence(lastHandled + 1)
        } else if let fromSequence = self.fromSequence {
            deliver = .byStartSequence(max(fromSequence, 1))
        } else if let since = self.since {
            deliver = .byStartTime(since)
        } else {
            deliver = .all
        }
        if let durableName {
            return ConsumerConfig(
                durableName: durableName, description: "wazuh-nats-gateway subscribe", deliverPolicy: deliver,
                ackPolicy: .explicit, ackWait: Self.durableAckWait, filterSubject: self.filterSubject)
        }
        return ConsumerConfig(
            description: "wazuh-nats-gateway subscribe", deliverPolicy: deliver, ackPolicy: .none,
            filterSubject: self.filterSubject, inactiveThreshold: .seconds(30))
    }

    /// Whether a freshly opened consumer has nothing to deliver to a run without `follow`.
    func isDone(consumerPending: UInt64) -> Bool {
        self.endSequence != nil && consumerPending == 0
    }

    /// Records a handled message; returns whether a run without `follow` is done after it (nothing
    /// matching is left, or it reached the last message stored when reading began).
    mutating func handled(_ metadata: JetStreamMessageMetadata) -> Bool {
        self.lastHandled = max(self.lastHandled ?? 0, metadata.streamSequence)
        guard let endSequence else { return false }
        return metadata.pending == 0 || metadata.streamSequence >= endSequence
    }

    /// Before creating the consumer again: a stream whose last sequence is below what was handled was
    /// deleted and re-created; reading starts at its first message. Returns whether that happened.
    mutating func streamLastSequence(_ lastSequence: UInt64) -> Bool {
        guard let lastHandled, lastSequence < lastHandled else { return false }
        self.lastHandled = nil
        return true
    }
}
