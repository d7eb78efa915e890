import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes fresh random keys as base64 text files with mode 0600 — the format the signing and
/// encryption key paths expect (`keygen --bytes 32` serves both).
public enum KeyGenerator {
    /// Accepted key sizes: the signing key needs at least 32 bytes, the encryption key exactly 32.
    public static let byteCountRange = 32...1024

    /// A key generation failure. Never contains key material.
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public enum Code: Sendable, Hashable {
            case invalidByteCount
            case fileExists
            case writeFailed
        }

        public var code: Code
        public var message: String

        public var description: String { self.message }
    }

    /// Generates `byteCount` random bytes (system CSPRNG) and writes them base64-encoded with a
    /// trailing newline to `path`, mode 0600.
    ///
    /// Without `overwrite`, an existing file is never touched (the file is created with
    /// `O_EXCL`). With it, the key is written to a temporary file in the same directory and
    /// renamed over the old one, so a crash never leaves a truncated key.
    public static func generate(at path: String, byteCount: Int = 32, overwrite: Bool = false) throws(Error) {
        guard self.byteCountRange.contains(byteCount) else {
            throw Error(
                code: .invalidByteCount,
                message:
                    "--bytes must be between \(self.byteCountRange.lowerBound) and \(self.byteCountRange.upperBound), got \(byteCount)"
            )
        }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(key).base64EncodedString() + "\n"
        if !overwrite {
            try self.write(text, toNewFile: path)
            return
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"
        try self.write(text, toNewFile: temporary)
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Error(code: .writeFailed, message: "cannot replace \(path): \(reason)")
        }
    }

    private static func write(_ text: String, toNewFile path: String) throws(Error) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST {
                throw Error(code: .fileExists, message: "\(path) already exists; pass --force to replace it")
            }
            throw Error(code: .writeFailed, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        var failure: String?
        let bytes = Array(text.utf8)
        if fchmod(descriptor, 0o600) != 0 {
            failure = String(cString: strerror(errno))
        }
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                    Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                    Darwin.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                failure = String(cString: strerror(errno))
            } else {
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 {
            failure = String(cString: strerror(errno))
        }
        close(descriptor)
        if let failure {
            unlink(path)
            throw Error(code: .writeFailed, message: "cannot write \(path): \(failure)")
        }
    }
}
