#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads files that hold secrets (`.creds`, NKey seeds) the way ssh treats private keys: a file
/// that group or others may read or write is refused before its content is looked at.
///
/// The file is opened first and the checks run on the open descriptor (`fstat`), so the file
/// checked is the file read.
enum SecretFile {
    /// Secret files are capped at this size; real ones are a few kilobytes.
    static let maximumSize = 1 << 20

    /// The permission bits that must be clear: group and others, read and write.
    static let forbiddenModeBits: UInt32 = 0o066

    /// The whole content of the secret file at `path`.
    static func read(path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            throw NATSAuthError(
                .fileUnreadable, "cannot open the secret file: \(errnoText(code))", path: path,
                underlying: SystemError(errno: code))
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            throw NATSAuthError(
                .fileUnreadable, "cannot stat the secret file: \(errnoText(code))", path: path,
                underlying: SystemError(errno: code))
        }
        let mode = UInt32(status.st_mode)
        guard mode & UInt32(S_IFMT) == UInt32(S_IFREG) else {
            throw NATSAuthError(.fileUnreadable, "the secret file is not a regular file", path: path, mode: mode)
        }
        guard mode & forbiddenModeBits == 0 else {
            throw NATSAuthError(
                .insecurePermissions,
                "the secret file is readable or writable by group or others; restrict it (chmod 600)",
                path: path, mode: mode)
        }
        guard Int(status.st_size) <= maximumSize else {
            throw NATSAuthError(
                .fileUnreadable, "the secret file is larger than \(maximumSize) bytes", path: path, mode: mode)
        }

        var content = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = readChunk(descriptor, into: &chunk)
            if count == 0 { break }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw NATSAuthError(
                    .fileUnreadable, "cannot read the secret file: \(errnoText(code))", path: path,
                    underlying: SystemError(errno: code))
            }
            content.append(contentsOf: chunk[0..<count])
            guard content.count <= maximumSize else {
                throw NATSAuthError(
                    .fileUnreadable, "the secret file is larger than \(maximumSize) bytes", path: path, mode: mode)
            }
        }
        return content
    }

    private static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// An `errno` value kept as the underlying error.
    struct SystemError: Error, Sendable, CustomStringConvertible {
        var errno: Int32
        var description: String { "errno \(errno)" }
    }
}

/// One `read(2)` into `buffer` (outside `SecretFile`, whose `read(path:)` hides the C function).
private func readChunk(_ descriptor: Int32, into buffer: inout [UInt8]) -> Int {
    buffer.withUnsafeMutableBytes { bytes in
        read(descriptor, bytes.baseAddress, bytes.count)
    }
}
