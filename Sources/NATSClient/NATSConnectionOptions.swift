import Logging
import NIOCore

/// How the client authenticates.
public enum NATSAuth: Sendable {
    case none
    case userPassword(user: String, password: String)
    case token(String)
    /// An NKey seed (`SU…`) read from a file that only its owner may read.
    case nkeySeedFile(String)
    /// A `.creds` file holding a user JWT and its NKey seed.
    case credentialsFile(String)
    /// An NKey held in memory.
    case nkey(NKeyPair)
    /// A user JWT and NKey held in memory.
    case credentials(NATSCredentials)
}

/// TLS settings. TLS 1.2 is the minimum; the server's chain and host name are always verified.
public struct NATSTLSOptions: Sendable {
    /// PEM file with the CA certificates to trust; `nil` trusts the system store.
    public var caCertificatePath: String?
    /// PEM client certificate chain for mutual TLS.
    public var clientCertificatePath: String?
    /// PEM private key of the client certificate.
    public var clientKeyPath: String?
    /// The name to verify the server certificate against; `nil` uses the URL's host.
    public var serverName: String?

    public init(
        caCertificatePath: String? = nil,
        clientCertificatePath: String? = nil,
        clientKeyPath: String? = nil,
        serverName: String? = nil
    ) {
        self.caCertificatePath = caCertificatePath
        self.clientCertificatePath = clientCertificatePath
        self.clientKeyPath = clientKeyPath
        self.serverName = serverName
    }
}

/// When and how fast to reconnect after losing the connection.
public struct NATSReconnectPolicy: Sendable, Equatable {
    /// Whether to reconnect at all.
    public var enabled: Bool
    /// Attempts (each through the whole server list) before giving up; `nil` retries forever.
    public var maxAttempts: Int?
    /// The first backoff bound.
    public var baseDelay: Duration
    /// The largest backoff bound.
    public var maxDelay: Duration

    public init(
        enabled: Bool = true,
        maxAttempts: Int? = nil,
        baseDelay: Duration = .milliseconds(100),
        maxDelay: Duration = .seconds(5)
    ) {
        self.enabled = enabled
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let disabled = NATSReconnectPolicy(enabled: false)

    /// The exponential bound for `attempt` (0-based): `min(maxDelay, baseDelay * 2^attempt)`.
    public func bound(forAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt, 0), 30)
        let base = self.baseDelay.nanoseconds
        let cap = self.maxDelay.nanoseconds
        let (scaled, overflow) = base.multipliedReportingOverflow(by: Int64(1) << exponent)
        return .nanoseconds(overflow ? cap : min(cap, scaled))
    }

    /// Full jitter: a uniformly random delay in `0...bound(forAttempt:)`.
    public func delay(forAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let bound = self.bound(forAttempt: attempt).nanoseconds
        guard bound > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...bound, using: &generator))
    }
}

extension Duration {
    /// The whole duration in nanoseconds, saturating.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled + attoseconds / 1_000_000_000
    }

    var timeAmount: TimeAmount {
        .nanoseconds(self.nanoseconds)
    }
}

/// One server to connect to.
public struct NATSServerAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// `tls://` scheme: TLS is required by the client.
    public var tls: Bool
    /// User and password (or a token as user) from the URL.
    var user: String?
    var password: String?

    public init(host: String, port: Int = 4222, tls: Bool = false) {
        self.host = host
        self.port = port
        self.tls = tls
    }

    /// `scheme://host:port` without credentials.
    public var description: String {
        "\(self.tls ? "tls" : "nats")://\(self.host.contains(":") ? "[\(self.host)]" : self.host):\(self.port)"
    }

    /// Parses `nats://[user:pass@]host[:port]`, `tls://…` or a bare `host[:port]`.
    public static func parse(_ text: String) throws -> NATSServerAddress {
        var rest = Substring(text.trimmingSpaces())
        var tls = false
        if let range = rest.range(of: "://") {
            let scheme = rest[rest.startIndex..<range.lowerBound].lowercased()
            switch scheme {
            case "nats": tls = false
            case "tls": tls = true
            default: throw NATSError(.invalidURL, "unsupported URL scheme '\(scheme)'")
            }
            rest = rest[range.upperBound...]
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[rest.startIndex..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userInfo.firstIndex(of: ":") {
                user = String(userInfo[userInfo.startIndex..<colon]).removingPercentEncoding()
                password = String(userInfo[userInfo.index(after: colon)...]).removingPercentEncoding()
            } else {
                user = String(userInfo).removingPercentEncoding()
            }
        }
        if let slash = rest.firstIndex(of: "/") {
            rest = rest[rest.startIndex..<slash]
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw NATSError(.invalidURL, "unterminated IPv6 address in server URL")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[rest.startIndex..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else {
            throw NATSError(.invalidURL, "server URL has no host")
        }
        var port = 4222
        if let portText {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw NATSError(.invalidURL, "invalid port '\(portText)' in server URL")
            }
            port = parsed
        }
        var address = NATSServerAddress(host: String(host), port: port, tls: tls)
        address.user = user
        address.password = password
        return address
    }

    /// Parses a comma-separated list of server URLs.
    public static func parseList(_ text: String) throws -> [NATSServerAddress] {
        let parts = text.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
        guard !parts.isEmpty else {
            throw NATSError(.invalidURL, "no server URL given")
        }
        return try parts.map(Self.parse)
    }
}

extension String {
    func removingPercentEncoding() -> String {
        var bytes: [UInt8] = []
        var iterator = Array(self.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Everything needed to connect.
public struct NATSConnectionOptions: Sendable {
    /// Servers tried in order; servers learnt from INFO `connect_urls` are added after them.
    public var servers: [NATSServerAddress]
    public var auth: NATSAuth
    /// TLS settings; also used for `tls://` servers and servers that require TLS. Setting it requires TLS.
    public var tls: NATSTLSOptions?
    /// The client name shown in the server's monitoring.
    public var name: String?
    public var pingInterval: Duration
    /// Unanswered keep-alive PINGs before the connection is declared dead.
    public var maxPingsOut: Int
    /// Bound for TCP connect + TLS + CONNECT handshake, per server.
    public var connectTimeout: Duration
    public var reconnect: NATSReconnectPolicy
    /// Bytes of outgoing commands kept while reconnecting; beyond it publishing fails fast.
    public var reconnectBufferSize: Int
    /// Messages queued per subscription before new ones are dropped (slow consumer).
    public var subscriptionBufferLimit: Int
    /// The largest message accepted from the server (the parser's bound).
    public var maxInboundMessageSize: Int
    /// Default deadline for `request` and `flush`.
    public var requestTimeout: Duration

    public init(
        servers: [NATSServerAddress],
        auth: NATSAuth = .none,
        tls: NATSTLSOptions? = nil,
        name: String? = nil,
        pingInterval: Duration = .seconds(30),
        maxPingsOut: Int = 2,
        connectTimeout: Duration = .seconds(5),
        reconnect: NATSReconnectPolicy = NATSReconnectPolicy(),
        reconnectBufferSize: Int = 8 * 1024 * 1024,
        subscriptionBufferLimit: Int = 65_536,
        maxInboundMessageSize: Int = 64 * 1024 * 1024,
        requestTimeout: Duration = .seconds(5)
    ) {
        self.servers = servers
        self.auth = auth
        self.tls = tls
        self.name = name
        self.pingInterval = pingInterval
        self.maxPingsOut = maxPingsOut
        self.connectTimeout = connectTimeout
        self.reconnect = reconnect
        self.reconnectBufferSize = reconnectBufferSize
        self.subscriptionBufferLimit = subscriptionBufferLimit
        self.maxInboundMessageSize = maxInboundMessageSize
        self.requestTimeout = requestTimeout
    }

    /// Options for a comma-separated list of URLs (`nats://h:4222,tls://user:pass@h2:4223`).
    public init(url: String, auth: NATSAuth = .none, tls: NATSTLSOptions? = nil) throws {
        self.init(servers: try NATSServerAddress.parseList(url), auth: auth, tls: tls)
    }
}
