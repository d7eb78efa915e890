import Gateway
import Logging
import NATSClient
import WireContract

/// A failure of an operator command (`replay`, `outbox`, `subscribe`, `simulate`, `demo`).
///
/// The message names what was being done and the problem; it never holds key material, passwords,
/// tokens or payload bytes.
public struct OperatorCommandError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, Hashable {
        /// The configuration did not load or validate.
        case invalidConfiguration
        /// A command-line argument is malformed or out of range.
        case invalidArgument
        /// A signing or encryption key could not be loaded.
        case keyUnavailable
        /// The outbox journal is missing or could not be read.
        case outboxUnavailable
        /// Connecting to NATS or talking to it failed.
        case natsFailure
        /// A process the command needs (nats-server, the gateway) could not be started or stopped.
        case processFailure
        /// Some messages could not be published or verified.
        case incomplete
    }

    public var code: Code
    /// What was being done and the problem, with the remedy where there is one.
    public var message: String
    /// The cause, when there is one.
    public var underlying: (any Error)?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { self.message }

    public var debugDescription: String {
        "OperatorCommandError(code: \(self.code.rawValue), message: \(self.message)"
            + (self.underlying.map { ", underlying: \(String(reflecting: $0))" } ?? "") + ")"
    }
}

/// How the operator commands reach NATS and the keys: the same settings the gateway uses.
public enum SubscriberConnection {
    /// Loads the configuration at `path` with `environment` overrides, as `run` does, and checks
    /// its key combinations. Referenced files are not all checked here: `subscribe` runs on hosts
    /// without a Wazuh database, and each command loads the keys it needs with their own checks
    /// (permissions included).
    public static func loadConfiguration(path: String, environment: [String: String]) throws(OperatorCommandError)
        -> GatewayConfiguration
    {
        do {
            let configuration = try GatewayConfiguration.load(fileAt: path, environment: environment)
            let problems = configuration.combinationProblems()
            if !problems.isEmpty {
                throw ConfigurationErrors(problems)
            }
            return configuration
        } catch var errors as ConfigurationErrors {
            errors.source = path
            throw OperatorCommandError(.invalidConfiguration, errors.description)
        } catch {
            throw OperatorCommandError(.invalidConfiguration, "configuration \(path): \(error)")
        }
    }

    /// The client options for the configured servers, authentication, TLS, pings and reconnects.
    static func options(for configuration: GatewayConfiguration, clientName: String) throws(OperatorCommandError)
        -> NATSConnectionOptions
    {
        var options: NATSConnectionOptions
        do {
            options = try configuration.natsConnectionOptions()
        } catch {
            throw OperatorCommandError(.invalidConfiguration, "\(error)")
        }
        options.name = clientName
        return options
    }

    /// Connects with the configured options.
    static func connect(
        _ configuration: GatewayConfiguration, clientName: String, logger: Logger
    ) async throws(OperatorCommandError) -> NATSConnection {
        let options = try self.options(for: configuration, clientName: clientName)
        do {
            return try await NATSConnection.connect(options: options, logger: logger)
        } catch {
            throw OperatorCommandError(.natsFailure, "cannot connect to NATS at \(configuration.nats.url): \(error)")
        }
    }

    /// The configured signing key.
    static func signingKey(_ configuration: GatewayConfiguration) throws(OperatorCommandError) -> SigningKey {
        guard let path = configuration.security.signingKeyPath else {
            throw OperatorCommandError(.keyUnavailable, "security.signing_key_path is not set")
        }
        do {
            return try SigningKey(path: path)
        } catch {
            throw OperatorCommandError(.keyUnavailable, "security.signing_key_path: \(error)")
        }
    }

    /// The configured encryption key, or `nil` when messages are not encrypted.
    static func encryptionKey(_ configuration: GatewayConfiguration) throws(OperatorCommandError) -> EncryptionKey? {
        guard configuration.security.encryptMessages else { return nil }
        guard let path = configuration.security.encryptionKeyPath else {
            throw OperatorCommandError(.keyUnavailable, "security.encryption_key_path is not set")
        }
        do {
            return try EncryptionKey(path: path)
        } catch {
            throw OperatorCommandError(.keyUnavailable, "security.encryption_key_path: \(error)")
        }
    }

    /// The sealer the gateway uses for this configuration: compression threshold and encryption key.
    static func sealer(_ configuration: GatewayConfiguration) throws(OperatorCommandError) -> MessageSealer {
        MessageSealer(
            compressionMinBytes: configuration.delivery.compressionMinBytes,
            encryptionKey: try self.encryptionKey(configuration))
    }
}
