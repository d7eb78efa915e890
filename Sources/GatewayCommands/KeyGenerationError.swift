/// Why `keygen` wrote no key. Never holds key material.
public struct KeyGenerationError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// `--bytes` is outside ``KeyGenerator/byteCountRange``.
        case invalidByteCount = "invalid_byte_count"
        /// The key file exists and `--force` was not given.
        case fileExists = "file_exists"
        /// The key file (or its temporary sibling) could not be written or renamed.
        case writeFailed = "write_failed"
    }

    public var code: Code
    /// The problem, naming the path or the accepted range, and the remedy where there is one.
    public var message: String
    /// The cause, when there is one.
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { self.message }

    public var debugDescription: String {
        "KeyGenerationError(code: \(self.code.rawValue), message: \(self.message)"
            + (self.underlying.map { ", underlying: \(String(reflecting: $0))" } ?? "") + ")"
    }
}
