/// A JSON value as the wire contract uses it: what canonical JSON (RFC 8785) is computed over.
///
/// Integers and doubles are kept apart so that integers always serialize plainly; on the wire both are
/// JSON numbers. Object member order is irrelevant: the canonical serializer sorts keys.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, if this is an integer (or a double with an exact integer value).
    public var intValue: Int64? {
        switch self {
        case .int(let value):
            return value
        case .double(let value):
            guard value.rounded() == value, let exact = Int64(exactly: value) else { return nil }
            return exact
        default:
            return nil
        }
    }

    /// The members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// `.string(value)` or `.null` when `value` is `nil`.
    public static func optionalString(_ value: String?) -> JSONValue {
        value.map { .string($0) } ?? .null
    }

    /// `.int(value)` or `.null` when `value` is `nil`.
    public static func optionalInt(_ value: Int64?) -> JSONValue {
        value.map { .int($0) } ?? .null
    }
}
