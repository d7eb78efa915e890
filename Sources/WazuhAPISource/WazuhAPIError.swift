import WazuhSource

/// An error talking to a Wazuh manager's REST API.
///
/// `description` names the API's URL (never credentials: the URL is checked to hold none) and what
/// went wrong; neither the password nor a token ever appears in it. `debugDescription` adds the
/// underlying transport error.
public struct WazuhAPIError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: Sendable, Hashable {
            case invalidConfiguration
            case unreachable
            case tlsFailure
            case timeout
            case badCredentials
            case tokenRejected
            case unexpectedStatus
            case malformedResponse
            case inconsistentPages
            case cancelled
        }

        let base: Base

        /// The client's configuration cannot work (URL, CA file).
        public static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// No connection to the API (refused, reset, DNS).
        public static let unreachable = Code(base: .unreachable)
        /// The TLS handshake failed: the server's certificate is not trusted by `api_ca` or the system store.
        public static let tlsFailure = Code(base: .tlsFailure)
        /// The API did not answer in time.
        public static let timeout = Code(base: .timeout)
        /// `POST /security/user/authenticate` answered 401: the user or password is wrong.
        public static let badCredentials = Code(base: .badCredentials)
        /// A token obtained a moment ago was refused again (revoked at once, or clocks far apart).
        public static let tokenRejected = Code(base: .tokenRejected)
        /// An HTTP status the client does not expect (403 for a user without `agent:read`, 5xx, …).
        public static let unexpectedStatus = Code(base: .unexpectedStatus)
        /// The body is not the API's JSON envelope or lacks a needed field.
        public static let malformedResponse = Code(base: .malformedResponse)
        /// The fleet changed between the pages of one read (agents added or removed): read again.
        public static let inconsistentPages = Code(base: .inconsistentPages)
        /// The task was cancelled while waiting.
        public static let cancelled = Code(base: .cancelled)

        public var description: String {
            switch base {
            case .invalidConfiguration: "invalid configuration"
            case .unreachable: "unreachable"
            case .tlsFailure: "TLS failure"
            case .timeout: "timed out"
            case .badCredentials: "bad credentials"
            case .tokenRejected: "token rejected"
            case .unexpectedStatus: "unexpected status"
            case .malformedResponse: "malformed response"
            case .inconsistentPages: "inconsistent pages"
            case .cancelled: "cancelled"
            }
        }
    }

    public var code: Code
    /// The API's base URL.
    public var url: String
    /// What happened; never holds a secret.
    public var message: String
    /// The HTTP status, when the API answered.
    public var status: Int?
    public var underlying: (any Error & Sendable)?
    public var file: String
    public var line: Int

    public init(
        code: Code, url: String, message: String, status: Int? = nil, underlying: (any Error & Sendable)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.url = url
        self.message = message
        self.status = status
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(url): \(message)" }

    public var debugDescription: String {
        var text = "WazuhAPIError(\(description)"
        if let status { text += ", status: \(status)" }
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ", at: \(file):\(line))"
    }

    /// The same failure as a source error, for ``SourceHealth``.
    public var sourceError: WazuhSourceError {
        let sourceCode: WazuhSourceError.Code =
            switch code.base {
            case .badCredentials, .tokenRejected: .apiAuthenticationFailed
            case .unreachable, .tlsFailure, .timeout, .cancelled: .apiUnavailable
            case .unexpectedStatus where (status ?? 0) >= 500: .apiUnavailable
            default: .apiError
            }
        return WazuhSourceError(code: sourceCode, path: url, message: message, underlying: self)
    }
}
