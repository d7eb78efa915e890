/// The server's `INFO` announcement.
public struct NATSServerInfo: Sendable, Equatable, Decodable {
    public var serverID: String
    public var serverName: String?
    public var version: String
    public var proto: Int?
    public var host: String?
    public var port: Int?
    public var headers: Bool?
    /// The largest payload the server accepts, in bytes.
    public var maxPayload: Int
    public var tlsRequired: Bool?
    public var tlsVerify: Bool?
    public var tlsAvailable: Bool?
    public var authRequired: Bool?
    /// Random text the client signs with its NKey when authenticating with keys.
    public var nonce: String?
    /// Other servers of the cluster a client may reconnect to (`host:port`).
    public var connectURLs: [String]?
    /// Lame-duck mode: the server is about to shut down.
    public var lameDuckMode: Bool?
    public var clientID: UInt64?
    public var jetStream: Bool?

    enum CodingKeys: String, CodingKey {
        case serverID = "server_id"
        case serverName = "server_name"
        case version
        case proto
        case host
        case port
        case headers
        case maxPayload = "max_payload"
        case tlsRequired = "tls_required"
        case tlsVerify = "tls_verify"
        case tlsAvailable = "tls_available"
        case authRequired = "auth_required"
        case nonce
        case connectURLs = "connect_urls"
        case lameDuckMode = "ldm"
        case clientID = "client_id"
        case jetStream = "jetstream"
    }

    public init(serverID: String, version: String, maxPayload: Int) {
        self.serverID = serverID
        self.version = version
        self.maxPayload = maxPayload
    }
}
