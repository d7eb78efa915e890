import Crypto
import Foundation
import Synchronization
import Timekeeping

/// The simulated API's JWTs: HS256 over `{"iss","sub","nbf","exp",…}` like Wazuh's, valid for the
/// configured lifetime. ``revokeAll()`` changes the signing key, as `PUT /security/user/revoke`
/// invalidates every issued token on a real manager.
final class SimulatedAPITokens: Sendable {
    let lifetime: Duration
    private let key = Mutex(SymmetricKey(size: .bits256))

    init(lifetime: Duration) {
        self.lifetime = lifetime
    }

    /// A token for `user`, expiring `lifetime` after now (millisecond precision, so tests can use short ones).
    func issue(user: String) -> String {
        let now = Self.nowMilliseconds()
        let header = Self.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let payload = Self.base64URL(
            Data(
                #"{"iss":"wazuh","aud":"Wazuh API REST","sub":"\#(user)","nbf":\#(now / 1000),"exp_ms":\#(now + lifetime.wholeMilliseconds),"run_as":false,"rbac_roles":[1],"rbac_mode":"white"}"#
                    .utf8))
        let signature = key.withLock {
            HMAC<SHA256>.authenticationCode(for: Data("\(header).\(payload)".utf8), using: $0)
        }
        return "\(header).\(payload).\(Self.base64URL(Data(signature)))"
    }

    /// Whether `token` was signed with the current key and has not expired.
    func isValid(_ token: String) -> Bool {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Self.decodeBase64URL(String(parts[2])),
            let payload = Self.decodeBase64URL(String(parts[1]))
        else { return false }
        let signed = key.withLock {
            HMAC<SHA256>.isValidAuthenticationCode(
                signature, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: $0)
        }
        guard signed,
            let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
            let expiry = (object["exp_ms"] as? NSNumber)?.int64Value
        else { return false }
        return Self.nowMilliseconds() < expiry
    }

    /// Invalidates every token issued so far.
    func revokeAll() {
        key.withLock { $0 = SymmetricKey(size: .bits256) }
    }

    private static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func decodeBase64URL(_ text: String) -> Data? {
        var base = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        return Data(base64Encoded: base)
    }
}
