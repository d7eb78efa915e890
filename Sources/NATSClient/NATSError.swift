/// An error raised by the NATS client.
///
/// Modelled on postgres-nio's `PSQLError`: a stable ``Code`` to switch on, a human message that names the
/// problem, and the optional underlying error. ``description`` never contains credentials: messages are built
/// from protocol text and local facts only, never from passwords, tokens, seeds or signatures.
public struct NATSError: Error, Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, stable enough to switch on.
    public enum Code: String, Sendable, Hashable {
        /// The server answered `-ERR 'Authorization Violation'` (wrong user, password, token or key).
        case authorizationViolation
        /// The server refused a publish or subscribe to a subject (`-ERR 'Permissions Violation ...'`).
        case permissionsViolation
        /// The server answered `-ERR 'Maximum Payload Violation'`.
        case maxPayloadViolation
        /// The server or the client declared the connection stale (unanswered pings).
        case staleConnection
        /// Any other `-ERR` from the server.
        case serverError
        /// The client refused a payload larger than the server's `max_payload` before sending it.
        case payloadTooLarge
        /// The bytes from the server do not follow the NATS protocol.
        case protocolViolation
        /// A control line from the server exceeds the 4 KiB bound.
        case controlLineTooLong
        /// No server could be reached or the handshake failed.
        case connectionFailed
        /// The connection was lost while the operation was outstanding; the caller may resend.
        case connectionLost
        /// The connection is closed (by `close()`, `drain()` or after reconnecting gave up).
        case connectionClosed
        /// The operation did not complete before its deadline.
        case timeout
        /// A request found no subscriber (`NATS/1.0 503`).
        case noResponders
        /// TLS setup or handshake failed (untrusted certificate, hostname mismatch, server without TLS).
        case tlsFailure
        /// A server URL could not be parsed.
        case invalidURL
        /// A subject or queue group name is empty or contains whitespace.
        case invalidSubject
        /// A header name or value cannot be written to the wire (empty name, colon, control characters).
        case invalidHeader
        /// Messages buffered while reconnecting would exceed the configured bound.
        case reconnectBufferFull
        /// Credentials could not be loaded or used (seed file, credentials file, missing nonce).
        case authenticationSetup
        /// A JSON reply (server INFO, JetStream API) could not be decoded.
        case invalidResponse
    }

    public var code: Code
    /// A short explanation naming the problem; never contains secrets.
    public var message: String
    /// The error that caused this one, if any.
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code,
        _ message: String,
        underlying: (any Error)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        "NATSError(\(self.code.rawValue)): \(self.message)"
    }

    public var debugDescription: String {
        var text = "NATSError(code: \(self.code.rawValue), message: \(self.message), at: \(self.file):\(self.line)"
        if let underlying = self.underlying {
            text += ", underlying: \(String(reflecting: underlying))"
        }
        return text + ")"
    }

    /// Two errors are equal when code and message are; the underlying error and source location are ignored.
    public static func == (lhs: NATSError, rhs: NATSError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

    /// Maps the text of a server `-ERR` line to a typed error.
    static func fromServer(_ text: String) -> NATSError {
        let lowered = text.lowercased()
        if lowered.contains("authorization violation") || lowered.contains("authentication") {
            return NATSError(.authorizationViolation, "server rejected the credentials: \(text)")
        }
        if lowered.contains("permissions violation") {
            return NATSError(.permissionsViolation, "server denied permission: \(text)")
        }
        if lowered.contains("maximum payload") {
            return NATSError(.maxPayloadViolation, "server refused the payload size: \(text)")
        }
        if lowered.contains("stale connection") {
            return NATSError(.staleConnection, "server declared the connection stale")
        }
        return NATSError(.serverError, "server error: \(text)")
    }
}
