/// An error answer of the JetStream API: `{"error": {"code": 404, "err_code": 10059, "description": "..."}}`.
public struct JetStreamAPIError: Error, Sendable, Equatable, Decodable, CustomStringConvertible {
    /// The HTTP-like status code (`404`, `400`, `503`, ...).
    public var code: Int
    /// The JetStream error code (`10059` stream not found, `10071` wrong last sequence, ...).
    public var errorCode: Int
    /// The server's description.
    public var errorDescription: String

    /// Stream not found.
    public static let streamNotFound = 10059
    /// `Nats-Expected-Stream` did not match the stream that stored the message.
    public static let streamNameMismatch = 10060

    enum CodingKeys: String, CodingKey {
        case code
        case errorCode = "err_code"
        case errorDescription = "description"
    }

    public init(code: Int, errorCode: Int, errorDescription: String) {
        self.code = code
        self.errorCode = errorCode
        self.errorDescription = errorDescription
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.code = try container.decodeIfPresent(Int.self, forKey: .code) ?? 0
        self.errorCode = try container.decodeIfPresent(Int.self, forKey: .errorCode) ?? 0
        self.errorDescription = try container.decodeIfPresent(String.self, forKey: .errorDescription) ?? ""
    }

    public var description: String {
        "JetStreamAPIError(code: \(self.code), err_code: \(self.errorCode)): \(self.errorDescription)"
    }
}

/// The envelope every JetStream API reply shares: either an `error` or the payload's own fields.
struct JetStreamErrorEnvelope: Decodable {
    var error: JetStreamAPIError?
}
