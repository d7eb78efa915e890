import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import Timekeeping
import WazuhSource

/// A client of a Wazuh manager's REST API, reduced to what the gateway reads: a JWT from
/// `POST /security/user/authenticate` and the agent list from `GET /agents`.
///
/// - **Token**: obtained with basic auth, reused until shortly before its lifetime ends (Wazuh's
///   `auth_token_exp_timeout`, 900 s by default; renewed ``Configuration/renewalMargin`` early),
///   and renewed once when a request is answered 401 (the token was revoked or the server's
///   lifetime is shorter). A second 401 in a row is ``WazuhAPIError/Code/tokenRejected``; a 401 to
///   the login itself is ``WazuhAPIError/Code/badCredentials``.
/// - **Rate**: every request takes a token from a ``RequestRateLimiter`` first; a 429 empties the
///   bucket and waits (`Retry-After` when the API sends it, else 1 s doubling up to
///   ``Configuration/maximumRateLimitWait``) and sends again — throttling is not a failure.
/// - **TLS**: verified against the system trust store, or only against ``Configuration/caFile``.
///
/// Neither the password nor a token ever reaches a log line, an error or `description`.
/// Call ``shutdown()`` before dropping the client (it owns an HTTP connection pool).
public final class WazuhAPIClient: Sendable, CustomStringConvertible {
    /// Where the API is and how to use it.
    public struct Configuration: Sendable {
        /// Base URL, e.g. `https://wazuh-manager:55000` (no credentials in it).
        public var url: String
        public var credentials: WazuhAPICredentials
        /// PEM file of the certificate authorities to trust instead of the system store.
        public var caFile: String?
        /// Lifetime of a token on the server (`auth_token_exp_timeout`).
        public var tokenLifetime: Duration
        /// Requests allowed per minute (the API's `max_request_per_minute` is 300 by default).
        public var requestsPerMinute: Int
        /// Agents asked for per `GET /agents` (`limit`, at most 100 000).
        public var pageSize: Int
        /// Longest wait for one response.
        public var requestTimeout: Duration
        /// Longest wait after a 429.
        public var maximumRateLimitWait: Duration

        public init(
            url: String, credentials: WazuhAPICredentials, caFile: String? = nil,
            tokenLifetime: Duration = .seconds(900),
            requestsPerMinute: Int = 240, pageSize: Int = 10_000, requestTimeout: Duration = .seconds(30),
            maximumRateLimitWait: Duration = .seconds(60)
        ) {
            self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
            self.credentials = credentials
            self.caFile = caFile
            self.tokenLifetime = tokenLifetime
            self.requestsPerMinute = requestsPerMinute
            self.pageSize = pageSize
            self.requestTimeout = requestTimeout
            self.maximumRateLimitWait = maximumRateLimitWait
        }

        /// How long before the end of its lifetime a token is renewed: a quarter of it, at most a minute.
        public var renewalMargin: Duration { min(.seconds(60), tokenLifetime / 4) }
    }

    /// What the client has sent so far.
    public struct Statistics: Sendable, Hashable {
        /// Every request sent (logins and 429-answered ones included).
        public var requests = 0
        public var authentications = 0
        /// Requests answered 429.
        public var rateLimited = 0
        /// Requests answered 401 with a token, followed by a new login.
        public var tokenRefusals = 0
    }

    public let configuration: Configuration
    private let http: HTTPClient
    private let limiter: RequestRateLimiter
    private let clock: any GatewayClock
    private let logger: Logger
    private struct Token {
        var value: String
        var renewAt: ContinuousClock.Instant
    }
    private struct State {
        var token: Token?
        var statistics = Statistics()
    }
    private let state = Mutex(State())

    /// - Throws: ``WazuhAPIError`` (`invalidConfiguration`) when the URL or the CA file is unusable.
    public init(configuration: Configuration, clock: any GatewayClock = SystemClock(), logger: Logger)
        throws(WazuhAPIError)
    {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        guard let url = URL(string: configuration.url), let scheme = url.scheme?.lowercased(),
            scheme == "https" || scheme == "http", url.host != nil, url.user == nil, url.password == nil
        else {
            throw WazuhAPIError(
                code: .invalidConfiguration, url: Self.displayURL(configuration.url),
                message: "the API URL must be http(s)://host[:port] without credentials")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = configuration.caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw WazuhAPIError(
                    code: .invalidConfiguration, url: configuration.url,
                    message: "cannot load the CA certificates from \(caFile)", underlying: error)
            }
        }
        let timeout = TimeAmount.nanoseconds(configuration.requestTimeout.wholeNanoseconds)
        self.http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: timeout, read: timeout)),
            backgroundActivityLogger: Logger(label: "wazuh.api.http", factory: { _ in SwiftLogNoOpLogHandler() }))
        self.limiter = RequestRateLimiter(perMinute: configuration.requestsPerMinute, clock: clock)
    }

    /// Closes the connection pool; the client cannot be used afterwards.
    public func shutdown() async {
        do {
            try await http.shutdown()
        } catch {
            logger.debug("closing the Wazuh API client failed", metadata: ["wazuh.api.error": "\(error)"])
        }
    }

    public var description: String { "WazuhAPIClient(\(configuration.url), user \(configuration.credentials.user))" }

    /// Requests sent so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Forgets the current token, so the next request logs in again.
    public func forgetToken() {
        state.withLock { $0.token = nil }
    }

    /// Logs in and keeps the token. - Throws: ``WazuhAPIError``.
    @discardableResult
    public func authenticate() async throws(WazuhAPIError) -> String {
        var request = HTTPClientRequest(url: configuration.url + "/security/user/authenticate")
        request.method = .POST
        request.headers.add(name: "Authorization", value: configuration.credentials.basicAuthorization)
        let started = clock.now
        let response = try await send(request)
        state.withLock { $0.statistics.authentications += 1 }
        switch response.status {
        case 200:
            break
        case 401:
            throw WazuhAPIError(
                code: .badCredentials, url: configuration.url,
                message: "the API refused the password of user \(configuration.credentials.user.debugDescription)",
                status: 401)
        default:
            throw unexpected(response, "logging in")
        }
        guard let token = Self.token(in: response.body), !token.isEmpty else {
            throw WazuhAPIError(
                code: .malformedResponse, url: configuration.url, message: "the login answer holds no data.token",
                status: response.status)
        }
        let renewAt = started + configuration.tokenLifetime - configuration.renewalMargin
        state.withLock { $0.token = Token(value: token, renewAt: renewAt) }
        logger.debug("Wazuh API token obtained", metadata: ["wazuh.api.url": "\(configuration.url)"])
        return token
    }

    /// One page of `GET /agents`, only the fields the mapping reads.
    public func agentsPage(offset: Int, limit: Int) async throws(WazuhAPIError) -> WazuhAPIAgentPage {
        let query =
            "select=" + WazuhAPIAgentPage.selectedFields.joined(separator: ",") + "&offset=\(offset)&limit=\(limit)"
        let body = try await authorizedGET(path: "/agents?" + query)
        do {
            return try WazuhAPIAgentPage(json: body.readableBytesView)
        } catch {
            throw WazuhAPIError(
                code: .malformedResponse, url: configuration.url,
                message: "GET /agents answered JSON without the expected agent fields", underlying: error)
        }
    }

    /// Every agent, page by page (``Configuration/pageSize`` each).
    public struct FullRead: Sendable {
        public var records: [AgentRecord]
        /// `GET /agents` requests the read took.
        public var pages: Int
    }

    /// Reads every agent. Fails with `inconsistentPages` when the fleet changed between pages (the
    /// total moved, or an agent came twice or not at all): the caller reads again.
    public func readAllAgents() async throws(WazuhAPIError) -> FullRead {
        var records: [AgentRecord] = []
        var offset = 0
        var pages = 0
        var total: Int?
        var items = 0
        repeat {
            let page = try await agentsPage(offset: offset, limit: configuration.pageSize)
            pages += 1
            if let total, total != page.totalAffectedItems {
                throw inconsistent("the agent total moved from \(total) to \(page.totalAffectedItems) between pages")
            }
            total = page.totalAffectedItems
            records.append(contentsOf: page.records)
            offset += page.itemCount
            items += page.itemCount
            if page.itemCount == 0 { break }
        } while offset < (total ?? 0)
        if items != total ?? 0 || Set(records.lazy.map { $0.id }).count != records.count {
            throw inconsistent("pages held \(items) agents for a total of \(total ?? 0)")
        }
        return FullRead(records: records, pages: pages)
    }

    private func inconsistent(_ message: String) -> WazuhAPIError {
        WazuhAPIError(code: .inconsistentPages, url: configuration.url, message: message)
    }

    /// A GET with the current token; one new login and retry when it is answered 401.
    private func authorizedGET(path: String) async throws(WazuhAPIError) -> ByteBuffer {
        var renewed = false
        while true {
            let token: String
            if let current = state.withLock({ $0.token }), clock.now < current.renewAt {
                token = current.value
            } else {
                token = try await authenticate()
                renewed = true
            }
            var request = HTTPClientRequest(url: configuration.url + path)
            request.headers.add(name: "Authorization", value: "Bearer " + token)
            let response = try await send(request)
            switch response.status {
            case 200:
                return response.body
            case 401 where !renewed:
                state.withLock { state in
                    state.token = nil
                    state.statistics.tokenRefusals += 1
                }
                logger.info(
                    "Wazuh API refused the token, logging in again", metadata: ["wazuh.api.url": "\(configuration.url)"]
                )
                continue
            case 401:
                state.withLock { $0.token = nil }
                throw WazuhAPIError(
                    code: .tokenRejected, url: configuration.url,
                    message: "the API refused a token it had just issued", status: 401)
            default:
                throw unexpected(response, "GET \(path.prefix { $0 != "?" })")
            }
        }
    }

    private struct Response {
        var status: Int
        var body: ByteBuffer
    }

    /// Sends after taking a rate-limit token; waits and sends again while the API answers 429.
    private func send(_ request: HTTPClientRequest) async throws(WazuhAPIError) -> Response {
        var waits = 0
        while true {
            do {
                try await limiter.acquire()
            } catch {
                throw cancelled()
            }
            state.withLock { $0.statistics.requests += 1 }
            let response: Response
            let retryAfter: String?
            do {
                let answer = try await http.execute(
                    request, timeout: .nanoseconds(configuration.requestTimeout.wholeNanoseconds))
                let body = try await answer.body.collect(upTo: 512 << 20)
                response = Response(status: Int(answer.status.code), body: body)
                retryAfter = answer.headers.first(name: "Retry-After")
            } catch {
                throw transportError(error)
            }
            guard response.status == 429 else { return response }
            limiter.drain()
            let wait = Self.rateLimitWait(
                retryAfter: retryAfter, waits: waits, maximum: configuration.maximumRateLimitWait)
            waits += 1
            let total = state.withLock { state in
                state.statistics.rateLimited += 1
                return state.statistics.rateLimited
            }
            logger.notice(
                "Wazuh API rate limit reached, waiting",
                metadata: [
                    "wazuh.api.url": "\(configuration.url)", "wazuh.api.wait_ms": "\(wait.wholeMilliseconds)",
                    "wazuh.api.rate_limited_total": "\(total)",
                ])
            do {
                try await clock.sleep(for: wait)
            } catch {
                throw cancelled()
            }
        }
    }

    /// `Retry-After` in seconds when given (at most `maximum`), else 1 s doubling per wait up to `maximum`.
    static func rateLimitWait(retryAfter: String?, waits: Int, maximum: Duration) -> Duration {
        if let retryAfter, let seconds = Int(retryAfter.trimmingCharacters(in: .whitespaces)), seconds >= 0 {
            return min(.seconds(seconds), maximum)
        }
        return min(.seconds(1) * (1 << min(waits, 16)), maximum)
    }

    private func cancelled() -> WazuhAPIError {
        WazuhAPIError(code: .cancelled, url: configuration.url, message: "cancelled")
    }

    private func unexpected(_ response: Response, _ action: String) -> WazuhAPIError {
        WazuhAPIError(
            code: .unexpectedStatus, url: configuration.url,
            message: "\(action) answered HTTP \(response.status)", status: response.status)
    }

    private func transportError(_ error: any Error) -> WazuhAPIError {
        if error is CancellationError || (error as? HTTPClientError) == .cancelled || Task.isCancelled {
            return cancelled()
        }
        if let error = error as? HTTPClientError,
            [.deadlineExceeded, .connectTimeout, .readTimeout, .tlsHandshakeTimeout].contains(error)
        {
            return WazuhAPIError(
                code: .timeout, url: configuration.url, message: "no answer in time", underlying: error)
        }
        if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
            return WazuhAPIError(
                code: .tlsFailure, url: configuration.url,
                message: "TLS handshake failed (is the server's certificate trusted by api_ca or the system store?)",
                underlying: error)
        }
        return WazuhAPIError(
            code: .unreachable, url: configuration.url, message: "cannot reach the API: \(Self.brief(error))",
            underlying: error)
    }

    /// A short, secret-free name of a transport error.
    private static func brief(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        if let error = error as? HTTPClientError { return error.description }
        return String(describing: type(of: error))
    }

    /// The URL for an error when it may hold credentials: scheme and host only.
    private static func displayURL(_ text: String) -> String {
        guard let url = URL(string: text), let host = url.host else { return "<invalid URL>" }
        return "\(url.scheme ?? "?")://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }

    /// `data.token` of the login answer.
    private static func token(in body: ByteBuffer) -> String? {
        struct Login: Decodable {
            struct Payload: Decodable { var token: String }
            var data: Payload
        }
        return try? JSONDecoder().decode(Login.self, from: Data(body.readableBytesView)).data.token
    }
}
