/// Why the daemon could not start (it never stops on its own once running: NATS and the database
/// being unavailable are retried, not fatal).
public struct DaemonError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The outbox directory could not be created or the outbox could not be opened.
        case outboxUnavailable = "outbox_unavailable"
        /// A signing or encryption key could not be loaded.
        case keyUnavailable = "key_unavailable"
        /// The NATS connection options could not be built (e.g. an unreadable password file).
        case natsOptions = "nats_options"
        /// The subject prefix is not usable.
        case invalidSubjectPrefix = "invalid_subject_prefix"
        /// A dashboard credential file could not be read.
        case dashboardCredentials = "dashboard_credentials"
        /// The agent status source could not be set up (the Wazuh API's password, URL or CA file).
        case sourceUnavailable = "source_unavailable"
    }

    public var code: Code
    /// What went wrong, naming the file or key; never holds secret material.
    public var message: String
    /// The cause, when there is one (its `description` is secret-free by the project's error convention).
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        "\(self.code.rawValue): \(self.message)" + (self.underlying.map { " (\($0))" } ?? "")
    }

    public var debugDescription: String {
        "DaemonError(code: \(self.code.rawValue), message: \(self.message)"
            + (self.underlying.map { ", underlying: \(String(reflecting: $0))" } ?? "") + ")"
    }
}
