/// A key file could not be used: missing, unreadable, too open, empty, not base64 or of the wrong length.
///
/// The error names the file and what is wrong with it; it never contains key material (not even a prefix
/// of the file's text), so it is safe to log and to print.
public struct KeyFileError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong.
    public enum Code: String, Sendable, Hashable {
        /// The file does not exist or cannot be opened or read.
        case unreadable
        /// Group or others may read or write the file (`mode & 0o077 != 0`).
        case tooOpen
        /// The file holds no text (or only whitespace).
        case empty
        /// The text is not valid standard base64.
        case notBase64
        /// The decoded key has the wrong length for its use.
        case wrongLength
        /// A new key file could not be created (exists already, directory missing, write failed).
        case cannotCreate
    }

    /// What went wrong.
    public var code: Code
    /// The key file's path, or for keys not read from a file a label such as `env:WAZUH_SIGNING_KEY`.
    public var path: String
    /// The file's permission bits when they matter (`tooOpen`).
    public var mode: UInt32?
    /// The decoded length in bytes when it matters (`wrongLength`); a length is not key material.
    public var length: Int?
    /// The `errno` of a failed system call, when there was one.
    public var systemErrno: Int32?
    /// Human-readable explanation without key material, e.g. what length was expected.
    public var message: String

    public init(
        code: Code, path: String, mode: UInt32? = nil, length: Int? = nil, systemErrno: Int32? = nil,
        message: String
    ) {
        self.code = code
        self.path = path
        self.mode = mode
        self.length = length
        self.systemErrno = systemErrno
        self.message = message
    }

    public var description: String {
        switch self.code {
        case .unreadable:
            return "key file \(self.path) cannot be read: \(self.message)"
        case .tooOpen:
            let mode = self.mode.map { String($0 & 0o7777, radix: 8) } ?? "?"
            return "key file \(self.path) has mode 0\(mode): group or others may access it; run chmod 600 on it"
        case .empty:
            return "key file \(self.path) is empty"
        case .notBase64:
            return "key file \(self.path) does not hold standard base64 text"
        case .wrongLength:
            return "key file \(self.path): \(self.message)"
        case .cannotCreate:
            return "key file \(self.path) cannot be created: \(self.message)"
        }
    }

    public var debugDescription: String {
        var parts = ["KeyFileError(code: \(self.code.rawValue), path: \(self.path)"]
        if let mode = self.mode { parts.append("mode: 0\(String(mode & 0o7777, radix: 8))") }
        if let length = self.length { parts.append("length: \(length)") }
        if let systemErrno = self.systemErrno { parts.append("errno: \(systemErrno)") }
        parts.append("message: \(self.message))")
        return parts.joined(separator: ", ")
    }
}
