import Gateway
import WireContract

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `keygen` command's logic: a fresh random key as a base64 text file with mode 0600 — the
/// format `security.signing_key_path` and `security.encryption_key_path` expect (`--bytes 32`
/// serves both). Writing is WireContract's `KeyFile.generate`, the same code the key loader pairs
/// with; this adds the command's size rule and messages.
public enum KeyGenerator {
    /// Accepted key sizes: the signing key needs at least 32 bytes, the encryption key exactly 32.
    public static let byteCountRange = 32...1024

    /// The name this error had before it followed the error convention.
    public typealias Error = KeyGenerationError

    /// Generates `byteCount` random bytes and writes them base64-encoded with a trailing newline to
    /// `path`, mode 0600.
    ///
    /// Without `overwrite`, an existing file is never touched (created with `O_EXCL`). With it, the
    /// key goes to a temporary file in the same directory that is renamed over the old one, so a
    /// crash never leaves a truncated key.
    public static func generate(at path: String, byteCount: Int = 32, overwrite: Bool = false) throws(Error) {
        guard self.byteCountRange.contains(byteCount) else {
            throw Error(
                code: .invalidByteCount,
                message:
                    "--bytes must be between \(self.byteCountRange.lowerBound) and \(self.byteCountRange.upperBound), got \(byteCount)"
            )
        }
        do {
            try KeyFile.generate(path: path, bytes: byteCount, overwrite: overwrite)
        } catch {
            if error.systemErrno == EEXIST {
                throw Error(code: .fileExists, message: "\(path) already exists; pass --force to replace it")
            }
            throw Error(code: .writeFailed, message: error.description, underlying: error)
        }
    }
}
