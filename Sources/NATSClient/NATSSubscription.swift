/// Messages of one subscription, as an `AsyncSequence`.
///
/// The sequence ends when the subscription is unsubscribed or drained, or the connection closes. Ending the
/// iteration early (dropping the iterator) unsubscribes.
public struct NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage

    /// The subscription id on the wire.
    public let sid: UInt64
    public let subject: String
    public let queue: String?
    let stream: AsyncStream<NATSMessage>
    let connection: NATSConnection

    public func makeAsyncIterator() -> AsyncStream<NATSMessage>.AsyncIterator {
        self.stream.makeAsyncIterator()
    }

    /// Stops the subscription (UNSUB); the sequence ends.
    public func unsubscribe() async throws {
        try await self.connection.unsubscribe(self)
    }
}
