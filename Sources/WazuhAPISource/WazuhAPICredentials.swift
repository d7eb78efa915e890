import Foundation

/// The user and password the gateway logs in to the Wazuh API with.
///
/// The password is only read where the `Authorization` header is built; `description`,
/// `debugDescription` and reflection show the user and `<redacted>`.
public struct WazuhAPICredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public let user: String
    let password: String

    public init(user: String, password: String) {
        self.user = user
        self.password = password
    }

    /// `Basic base64(user:password)`.
    var basicAuthorization: String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    public var description: String { "\(user):<redacted>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["user": user], displayStyle: .struct) }
}
