import Outbox
import WireContract

/// The SQLite outbox is the delivery worker's journal.
extension OutboxStore: DeliveryJournal {}

/// Seals journaled messages with WireContract's ``MessageSealer`` (compression above
/// `compression_min_bytes`, AES-256-GCM when configured, contract headers).
public struct WireDeliverySealer: DeliverySealer {
    public var sealer: MessageSealer

    public init(sealer: MessageSealer) {
        self.sealer = sealer
    }

    public func seal(_ message: OutboxMessage) throws -> OutgoingMessage {
        let sealed = try sealer.seal(
            subject: message.subject, signedPayload: message.payload, messageID: message.messageID)
        return OutgoingMessage(
            subject: sealed.subject, headers: sealed.headers.map { OutgoingMessage.Header(name: $0.0, value: $0.1) },
            payload: sealed.payload)
    }
}
