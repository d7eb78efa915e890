import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads and writes key files: base64 text in a file only its owner may access (like ssh's private keys).
///
/// Reading opens the file once and checks the permissions of the opened file (`fstat`), so the file that
/// was checked is the file that is read. Whitespace (including a trailing newline and line breaks inside
/// the text) is ignored; the rest must be standard, padded base64.
public enum KeyFile {
    /// The largest key file accepted, in bytes of text; key files are tiny, anything larger is a mistake.
    public static let maximumFileSize = 64 * 1024

    /// Reads the key bytes from the file at `path`.
    ///
    /// - Throws: ``KeyFileError`` with code `unreadable`, `tooOpen` (mode & 0o077 != 0), `empty` or `notBase64`.
    public static func read(path: String) throws(KeyFileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            throw KeyFileError(code: .unreadable, path: path, systemErrno: code, message: Self.errnoText(code))
        }
        defer { close(fd) }

        var info = stat()
        if fstat(fd, &info) != 0 {
            let code = errno
            throw KeyFileError(code: .unreadable, path: path, systemErrno: code, message: Self.errnoText(code))
        }
        if (info.st_mode & S_IFMT) != S_IFREG {
            throw KeyFileError(code: .unreadable, path: path, message: "not a regular file")
        }
        let mode = UInt32(info.st_mode) & 0o7777
        if mode & 0o077 != 0 {
            throw KeyFileError(
                code: .tooOpen, path: path, mode: mode, message: "group or others may read or write the file")
        }
        if info.st_size > Self.maximumFileSize {
            throw KeyFileError(
                code: .unreadable, path: path,
                message: "larger than \(Self.maximumFileSize) bytes; a key file holds one base64 line")
        }

        var text = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                throw KeyFileError(code: .unreadable, path: path, systemErrno: code, message: Self.errnoText(code))
            }
            if count == 0 { break }
            text.append(contentsOf: chunk[0..<count])
            if text.count > Self.maximumFileSize {
                throw KeyFileError(
                    code: .unreadable, path: path,
                    message: "larger than \(Self.maximumFileSize) bytes; a key file holds one base64 line")
            }
        }
        // Do not leave the key text lying around longer than needed.
        defer {
            for index in text.indices { text[index] = 0 }
        }
        return try Self.decode(base64Text: text, source: path)
    }

    /// Decodes key text (standard, padded base64; whitespace ignored) coming from `source`.
    ///
    /// `source` only labels errors (a path, or e.g. `env:WAZUH_SIGNING_KEY`); it is never key material.
    public static func decode(base64Text: some Collection<UInt8>, source: String) throws(KeyFileError) -> [UInt8] {
        let compact = base64Text.filter { byte in
            !(byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D)
        }
        if compact.isEmpty {
            throw KeyFileError(code: .empty, path: source, message: "no key text")
        }
        guard let decoded = Base64.decode(compact) else {
            throw KeyFileError(code: .notBase64, path: source, message: "not standard padded base64")
        }
        if decoded.isEmpty {
            throw KeyFileError(code: .empty, path: source, message: "no key bytes")
        }
        return decoded
    }

    /// Writes a new random key of `bytes` bytes as base64 text to `path`, readable only by its owner (0600).
    ///
    /// Without `overwrite` the file is created with `O_CREAT | O_EXCL` and mode 0600, so an existing file
    /// is never replaced and the key is never readable by others, not even for an instant. With
    /// `overwrite` the key is written to a fresh 0600 temporary file next to `path` and renamed over it.
    /// The data is flushed to disk (`fsync`) before returning.
    @discardableResult
    public static func generate(path: String, bytes: Int, overwrite: Bool = false) throws(KeyFileError) -> [UInt8] {
        guard bytes > 0, bytes <= 4096 else {
            throw KeyFileError(code: .cannotCreate, path: path, message: "key length must be 1...4096 bytes")
        }
        let key = SymmetricKey(size: SymmetricKeySize(bitCount: bytes * 8)).withUnsafeBytes { [UInt8]($0) }
        var text = Array(Base64.encode(key).utf8)
        text.append(0x0A)
        defer {
            for index in text.indices { text[index] = 0 }
        }

        if !overwrite {
            try Self.writeNew(path: path, text: text, reportedPath: path)
            return key
        }
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Self.writeNew(path: temporary, text: text, reportedPath: path)
        if rename(temporary, path) != 0 {
            let code = errno
            unlink(temporary)
            throw KeyFileError(
                code: .cannotCreate, path: path, systemErrno: code, message: "rename: \(Self.errnoText(code))")
        }
        return key
    }

    private static func writeNew(path: String, text: [UInt8], reportedPath: String) throws(KeyFileError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o600))
        if fd < 0 {
            let code = errno
            let detail = code == EEXIST ? "file exists (refusing to overwrite)" : Self.errnoText(code)
            throw KeyFileError(code: .cannotCreate, path: reportedPath, systemErrno: code, message: detail)
        }
        var failure: KeyFileError?
        // umask can only remove bits; make sure the mode is exactly 0600 anyway.
        if fchmod(fd, mode_t(0o600)) != 0 {
            let code = errno
            failure = KeyFileError(
                code: .cannotCreate, path: reportedPath, systemErrno: code, message: "fchmod: \(Self.errnoText(code))")
        }
        var written = 0
        while failure == nil, written < text.count {
            let count = text.withUnsafeBytes { buffer in
                systemWrite(fd, buffer.baseAddress.map { $0 + written }, buffer.count - written)
            }
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                failure = KeyFileError(
                    code: .cannotCreate, path: reportedPath, systemErrno: code,
                    message: "write: \(Self.errnoText(code))")
            } else {
                written += count
            }
        }
        if failure == nil, fsync(fd) != 0 {
            let code = errno
            failure = KeyFileError(
                code: .cannotCreate, path: reportedPath, systemErrno: code, message: "fsync: \(Self.errnoText(code))")
        }
        close(fd)
        if let failure {
            unlink(path)
            throw failure
        }
    }

    static func errnoText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

// `read` and `write` are shadowed inside `KeyFile` by its own `read(path:)`; these name the C calls.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}
