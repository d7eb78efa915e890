import Foundation
import Hummingbird

/// The dashboard's HTTP routes on the monitoring server:
/// - `GET /` the page, `GET /dashboard.js`, `GET /dashboard.css` its assets (compiled in);
/// - `GET /dashboard/state` the current `DashboardSnapshot` as JSON;
/// - `GET /dashboard/events` Server-Sent Events: one `snapshot` event at once, then one after
///   each change (at most one per `minimumInterval`) and at least one per `keepAliveInterval`.
///
/// Every route answers 401 unless `access` permits the request. The page is served with a strict
/// Content-Security-Policy: scripts and styles only from this origin, no inline script, no
/// framing, network access only back to this origin.
public enum DashboardRoutes {
    /// The policy sent with every dashboard response.
    public static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    public static func register(
        on router: Router<BasicRequestContext>, state: DashboardState, access: DashboardAccess,
        minimumInterval: Duration = .milliseconds(250), keepAliveInterval: Duration = .seconds(5)
    ) {
        guard access.isServed else { return }
        func guarded(
            _ handler: @escaping @Sendable (Request) async throws -> Response
        ) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
            { request, _ in
                guard access.permits(authorization: request.headers[.authorization]) else {
                    var headers = Self.headers(contentType: "text/plain; charset=utf-8")
                    if let challenge = access.challenge { headers[.wwwAuthenticate] = challenge }
                    return Response(
                        status: .unauthorized, headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "authentication required\n")))
                }
                return try await handler(request)
            }
        }
        router.get("/", use: guarded { _ in Self.asset(DashboardPage.html, "text/html; charset=utf-8") })
        router.get(
            "/dashboard.js", use: guarded { _ in Self.asset(DashboardScript.source, "text/javascript; charset=utf-8") })
        router.get("/dashboard.css", use: guarded { _ in Self.asset(DashboardPage.css, "text/css; charset=utf-8") })
        // Browsers ask for it on every page; answering "no content" keeps their consoles clean.
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        router.get(
            "/dashboard/state",
            use: guarded { _ in
                Response(
                    status: .ok, headers: Self.headers(contentType: "application/json"),
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: state.snapshot().json())))
            })
        router.get(
            "/dashboard/events",
            use: guarded { _ in
                Self.eventStream(state: state, minimumInterval: minimumInterval, keepAliveInterval: keepAliveInterval)
            })
    }

    /// One Server-Sent Event carrying `snapshot`.
    static func event(_ snapshot: DashboardSnapshot) -> ByteBuffer {
        var buffer = ByteBuffer(string: "id: \(snapshot.version)\nevent: snapshot\ndata: ")
        buffer.writeBytes(snapshot.json())
        buffer.writeString("\n\n")
        return buffer
    }

    static func eventStream(
        state: DashboardState, minimumInterval: Duration, keepAliveInterval: Duration
    ) -> Response {
        var headers = Self.headers(contentType: "text/event-stream")
        headers[.cacheControl] = "no-store"
        let body = ResponseBody { writer in
            // Changes and keep-alive ticks merge into one wake-up stream, coalesced to one pending wake.
            let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let updates = state.updates()
            let forward = Task {
                for await _ in updates { wake.yield() }
                wake.finish()
            }
            let ticker = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: keepAliveInterval)
                    wake.yield()
                }
            }
            defer {
                forward.cancel()
                ticker.cancel()
            }
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            try await writer.write(Self.event(state.snapshot()))
            var lastSent = ContinuousClock.now
            for await _ in wakes {
                let elapsed = ContinuousClock.now - lastSent
                if elapsed < minimumInterval {
                    try await Task.sleep(for: minimumInterval - elapsed)
                }
                try await writer.write(Self.event(state.snapshot()))
                lastSent = ContinuousClock.now
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    private static func asset(_ text: String, _ contentType: String) -> Response {
        Response(
            status: .ok, headers: Self.headers(contentType: contentType),
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    private static func headers(contentType: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.cacheControl] = "no-store"
        return headers
    }
}
