/// A secret configuration value (password, token). Its `description`, `debugDescription` and
/// reflection all print `<redacted>`, so it cannot leak through logging or string interpolation;
/// read the value only where it is used, through `revealed`.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The secret text. Pass it to the component that needs it; never log or print it.
    public let revealed: String

    public init(_ value: String) {
        self.revealed = value
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
