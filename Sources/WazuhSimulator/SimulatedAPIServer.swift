import Foundation
import GRDB
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The simulated manager's Wazuh REST API over HTTPS, backed by the simulator's live fleet.
///
/// - `POST /security/user/authenticate` with basic auth → `{"data":{"token":…},"error":0}`; 401 for
///   other credentials. Tokens are HS256 JWTs valid for ``Configuration/tokenLifetime``.
/// - `GET /agents?select=…&offset=…&limit=…` with `Authorization: Bearer` (see ``SimulatedAPIAgents``);
///   401 for a missing, expired or revoked token, 400 for an unknown field or a limit outside
///   1…100000.
/// - `PUT /security/user/revoke` (or ``revokeTokens()``) invalidates every issued token.
/// - More than ``Configuration/requestsPerMinute`` requests within one window (started by the first
///   request, like the real API's counter) are answered 429 with `Retry-After`.
///
/// The certificate is generated at start-up; its CA is written to ``caPath`` for clients' `api_ca`.
public final class SimulatedAPIServer: Sendable {
    /// How the API behaves.
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port (see ``port``).
        public var port: Int
        public var user: String
        public var password: String
        public var tokenLifetime: Duration
        public var requestsPerMinute: Int
        /// Length of the rate-limit window (60 s like Wazuh; shorter in tests).
        public var rateWindow: Duration
        /// Where the CA certificate is written (`<directory>/api-ca.pem`).
        public var directory: String

        public init(
            host: String = "127.0.0.1", port: Int = 0, user: String = "wazuh-wui", password: String = "wazuh-wui",
            tokenLifetime: Duration = .seconds(900), requestsPerMinute: Int = 300, rateWindow: Duration = .seconds(60),
            directory: String
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.tokenLifetime = tokenLifetime
            self.requestsPerMinute = requestsPerMinute
            self.rateWindow = rateWindow
            self.directory = directory
        }
    }

    public let configuration: Configuration
    /// PEM file of the CA that signed the server's certificate.
    public let caPath: String
    private let certificate: SimulatedAPICertificate
    private let tokens: SimulatedAPITokens
    private let database: DatabaseQueue
    private let logger: Logger
    private struct State {
        var port: Int?
        var task: Task<Void, any Error>?
        var windowStart: ContinuousClock.Instant?
        var windowCount = 0
        var requests = 0
        var rateLimited = 0
        var garbled = false
    }
    private let state = Mutex(State())

    /// Generates the certificate and writes the CA file; ``start()`` listens.
    public init(configuration: Configuration, database: DatabaseQueue, logger: Logger) throws {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.certificate = try SimulatedAPICertificate()
        self.tokens = SimulatedAPITokens(lifetime: configuration.tokenLifetime)
        self.caPath = (configuration.directory as NSString).appendingPathComponent("api-ca.pem")
        try certificate.caPEM.write(toFile: caPath, atomically: true, encoding: .utf8)
    }

    /// The bound port once ``start()`` returned.
    public var port: Int? { state.withLock { $0.port } }
    /// Requests answered so far (429s included).
    public var requests: Int { state.withLock { $0.requests } }
    /// Requests answered 429 so far.
    public var rateLimited: Int { state.withLock { $0.rateLimited } }
    /// `https://localhost:<port>` (the certificate names `localhost`).
    public var url: String { "https://localhost:\(port ?? configuration.port)" }

    /// While set, `GET /agents` answers 200 with a body that is not the API's JSON (a proxy's error
    /// page, a truncated reply): for tests of a manager whose API talks garbage.
    public func garbleReplies(_ garbled: Bool) { state.withLock { $0.garbled = garbled } }

    /// Invalidates every token issued so far (`PUT /security/user/revoke`).
    public func revokeTokens() { tokens.revokeAll() }

    /// Starts serving; returns the bound port once listening.
    @discardableResult
    public func start() async throws -> Int {
        let (bound, continuation) = AsyncStream<Int>.makeStream()
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(certificate.serverCertificate)],
            privateKey: .privateKey(certificate.serverKey))
        tls.minimumTLSVersion = .tlsv12
        let application = Application(
            router: makeRouter(), server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port), serverName: "Wazuh API REST"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let task = Task { try await application.run() }
        state.withLock { $0.task = task }
        var iterator = bound.makeAsyncIterator()
        guard let port = await iterator.next() else {
            task.cancel()
            _ = try await task.value
            throw CancellationError()
        }
        state.withLock { $0.port = port }
        return port
    }

    /// Stops serving and waits until the listener is closed.
    public func stop() async {
        let task = state.withLock { state in
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
        _ = try? await task?.value
    }

    private func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/security/user/authenticate") { [self] request, _ -> Response in
            if let limited = throttle() { return limited }
            guard let header = request.headers[.authorization], header.hasPrefix("Basic "),
                let decoded = Data(base64Encoded: String(header.dropFirst(6))),
                String(decoding: decoded, as: UTF8.self) == "\(configuration.user):\(configuration.password)"
            else {
                return Self.json(.unauthorized, #"{"title":"Unauthorized","detail":"Invalid credentials"}"#)
            }
            let token = tokens.issue(user: configuration.user)
            return Self.json(.ok, #"{"data":{"token":"\#(token)"},"error":0}"#)
        }
        router.put("/security/user/revoke") { [self] request, _ -> Response in
            if let limited = throttle() { return limited }
            guard authorized(request) else { return Self.unauthorized }
            tokens.revokeAll()
            return Self.json(.ok, #"{"message":"User tokens were successfully revoked","error":0}"#)
        }
        router.get("/agents") { [self] request, _ -> Response in
            if let limited = throttle() { return limited }
            guard authorized(request) else { return Self.unauthorized }
            if state.withLock({ $0.garbled }) {
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: ResponseBody(
                        byteBuffer: ByteBuffer(string: "<html><body>502 Bad Gateway</body></html>{\"data\":")))
            }
            let query = request.uri.queryParameters
            let select = Set(
                (query.get("select") ?? SimulatedAPIAgents.fields.joined(separator: ",")).split(separator: ",")
                    .map(String.init))
            let offset = query.get("offset").flatMap { Int($0) } ?? 0
            let limit = query.get("limit").flatMap { Int($0) } ?? 500
            guard select.isSubset(of: SimulatedAPIAgents.fields), offset >= 0, (1...100_000).contains(limit) else {
                return Self.json(.badRequest, #"{"title":"Bad Request","detail":"invalid parameter","error":1000}"#)
            }
            let body = try SimulatedAPIAgents.page(database: database, select: select, offset: offset, limit: limit)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        return router
    }

    private func authorized(_ request: Request) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return tokens.isValid(String(header.dropFirst(7)))
    }

    /// Counts the request; a 429 when the window's budget is spent.
    private func throttle() -> Response? {
        let retryAfter: Int? = state.withLock { state in
            state.requests += 1
            let now = ContinuousClock.now
            if let start = state.windowStart, now - start < configuration.rateWindow {
                state.windowCount += 1
            } else {
                state.windowStart = now
                state.windowCount = 1
            }
            guard state.windowCount > configuration.requestsPerMinute, let start = state.windowStart else { return nil }
            state.rateLimited += 1
            let remaining = configuration.rateWindow - (now - start)
            return max(1, Int(remaining.components.seconds) + (remaining.components.attoseconds > 0 ? 1 : 0))
        }
        guard let retryAfter else { return nil }
        var response = Self.json(
            .tooManyRequests,
            #"{"title":"Too Many Requests","detail":"Maximum number of requests per minute reached","error":6001}"#)
        response.headers[.retryAfter] = String(retryAfter)
        return response
    }

    private static let unauthorized = json(
        .unauthorized, #"{"title":"Unauthorized","detail":"No authorization token provided"}"#)

    private static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

extension WazuhSimulator {
    /// Serves the simulated REST API from this simulator's database (see ``SimulatedAPIServer``);
    /// call `start()` on the result.
    public func makeAPIServer(configuration: SimulatedAPIServer.Configuration, logger: Logger? = nil) throws
        -> SimulatedAPIServer
    {
        try SimulatedAPIServer(configuration: configuration, database: database, logger: logger ?? self.logger)
    }
}
