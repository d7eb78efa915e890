import Foundation

/// Who may open the dashboard: anyone who can reach a loopback address, or, when credentials are
/// configured, only requests carrying them (HTTP basic auth and/or a bearer token, each read from
/// a file). On a non-loopback address without credentials the dashboard is not served at all.
///
/// Credentials are `Secret`s: they never appear in logs or descriptions. Comparison takes the same
/// time whatever the position of the first differing byte.
public struct DashboardAccess: Sendable, Equatable {
    public enum Policy: Sendable, Equatable {
        /// No credentials: allowed only when bound to loopback.
        case open
        /// Requests must carry one of the configured credentials.
        case credentials(basic: BasicCredentials?, token: Secret?)
        /// Not served (non-loopback address without credentials).
        case disabled
    }

    /// A user name and password for HTTP basic auth.
    public struct BasicCredentials: Sendable, Equatable {
        public var user: String
        public var password: Secret

        public init(user: String, password: Secret) {
            self.user = user
            self.password = password
        }
    }

    public let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    /// The policy for a server bound to `address` with the given credentials (either may be nil).
    public init(address: String, basic: BasicCredentials?, token: Secret?) {
        if basic != nil || token != nil {
            self.policy = .credentials(basic: basic, token: token)
        } else if Self.isLoopback(address) {
            self.policy = .open
        } else {
            self.policy = .disabled
        }
    }

    public var isServed: Bool { self.policy != .disabled }

    /// Whether a request with this `Authorization` header value may see the dashboard.
    public func permits(authorization: String?) -> Bool {
        switch self.policy {
        case .open:
            return true
        case .disabled:
            return false
        case .credentials(let basic, let token):
            guard let authorization else { return false }
            if let token, let presented = Self.value(authorization, scheme: "Bearer") {
                return Self.constantTimeEqual(presented, token.revealed)
            }
            if let basic, let encoded = Self.value(authorization, scheme: "Basic"),
                let data = Data(base64Encoded: encoded), let pair = String(data: data, encoding: .utf8),
                let colon = pair.firstIndex(of: ":")
            {
                let userMatches = Self.constantTimeEqual(String(pair[..<colon]), basic.user)
                let passwordMatches = Self.constantTimeEqual(
                    String(pair[pair.index(after: colon)...]), basic.password.revealed)
                return userMatches && passwordMatches
            }
            return false
        }
    }

    /// The `WWW-Authenticate` challenge of a refused request, when basic auth is configured.
    public var challenge: String? {
        if case .credentials(let basic?, _) = self.policy, !basic.user.isEmpty {
            return "Basic realm=\"wazuh-nats-gateway\", charset=\"UTF-8\""
        }
        if case .credentials(_, .some) = self.policy {
            return "Bearer realm=\"wazuh-nats-gateway\""
        }
        return nil
    }

    /// `127.0.0.0/8`, `::1` and `localhost`.
    public static func isLoopback(_ address: String) -> Bool {
        let trimmed = address.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if trimmed == "localhost" || trimmed == "::1" || trimmed == "0:0:0:0:0:0:0:1" { return true }
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    private static func value(_ header: String, scheme: String) -> String? {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        guard trimmed.count > scheme.count, trimmed.lowercased().hasPrefix(scheme.lowercased() + " ") else {
            return nil
        }
        return String(trimmed.dropFirst(scheme.count + 1)).trimmingCharacters(in: .whitespaces)
    }

    /// Compares every byte of the longer input, so timing does not reveal a matching prefix.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
