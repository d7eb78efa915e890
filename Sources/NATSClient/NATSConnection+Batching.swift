import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The batch buffer of outgoing commands, and input validation.
extension NATSConnection {
    // MARK: Helpers

    /// Encodes `command` into the batch buffer and schedules a write; returns the bytes now waiting.
    @discardableResult
    func enqueue(_ command: NATSClientCommand, messageSize: Int? = nil) throws -> Int {
        let appended = try self.state.withLockedValue { state in
            if let messageSize {
                try Self.checkSize(messageSize, limit: state.serverInfo?.maxPayload)
            }
            return try self.appendLocked(command, to: &state)
        }
        if let target = appended.drainTarget {
            self.scheduleDrain(target)
        }
        return appended.backlog
    }

    /// Appends `command` to the batch buffer (caller holds the lock). Returns the channel on which a drain must
    /// be scheduled (none when one is already scheduled or while not connected) and the bytes waiting.
    func appendLocked(
        _ command: NATSClientCommand,
        to state: inout State
    ) throws -> (drainTarget: ChannelRef?, backlog: Int) {
        try self.appendLocked(to: &state) { NATSCommandEncoder.write(command, into: &$0) }
    }

    /// Appends what `write` encodes to the batch buffer (caller holds the lock); see ``appendLocked(_:to:)``.
    func appendLocked(
        to state: inout State,
        _ write: (inout ByteBuffer) -> Void
    ) throws -> (drainTarget: ChannelRef?, backlog: Int) {
        switch state.phase {
        case .closed:
            throw NATSError(.connectionClosed, "connection is closed")
        case .connecting, .reconnecting:
            let before = state.outbound.writerIndex
            write(&state.outbound)
            if state.outbound.readableBytes > self.options.reconnectBufferSize {
                state.outbound.moveWriterIndex(to: before)
                throw NATSError(
                    .reconnectBufferFull,
                    "more than \(self.options.reconnectBufferSize) bytes buffered while reconnecting")
            }
            return (nil, 0)
        case .connected(let ref):
            write(&state.outbound)
            let backlog = state.outbound.readableBytes
            if state.drainScheduled {
                return (nil, backlog)
            }
            state.drainScheduled = true
            return (ref, backlog)
        }
    }

    func scheduleDrain(_ ref: ChannelRef) {
        ref.channel.eventLoop.execute {
            ref.handler.value.drainOutbound()
        }
    }

    func currentChannel() -> ChannelRef? {
        self.state.withLockedValue {
            if case .connected(let ref) = $0.phase { return ref }
            return nil
        }
    }

    func notConnectedError() -> NATSError {
        self.state.withLockedValue {
            if case .closed = $0.phase { return NATSError(.connectionClosed, "connection is closed") }
            return NATSError(.connectionLost, "not connected (reconnecting)")
        }
    }

    func emit(_ event: NATSConnectionEvent) {
        let observers = self.state.withLockedValue { Array($0.observers.values) }
        for observer in observers {
            observer.yield(event)
        }
    }

    static func validateHeaders(_ headers: NATSHeaders?) throws {
        guard let headers else { return }
        for field in headers {
            guard NATSHeaders.isValidName(field.name), NATSHeaders.isValidValue(field.value) else {
                throw NATSError(.invalidHeader, "header '\(field.name.prefix(64))' cannot be sent")
            }
        }
    }

    /// Refuses a message larger than the server's `max_payload` (1 MiB, the server default, before any INFO).
    static func checkSize(_ size: Int, limit: Int?) throws {
        let limit = limit ?? 1024 * 1024
        guard size <= limit else {
            throw NATSError(.payloadTooLarge, "message of \(size) bytes exceeds the server's max_payload of \(limit)")
        }
    }

    static func validateSubject(_ subject: String) throws {
        var subject = subject
        let valid = subject.withUTF8 { bytes in
            guard !bytes.isEmpty else { return false }
            for byte in bytes where byte <= 32 || byte == 127 {
                return false
            }
            return true
        }
        guard valid else {
            throw NATSError(.invalidSubject, "subject '\(subject.prefix(64))' is empty or contains whitespace")
        }
    }

    static func randomToken(length: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
