import Foundation
import NATSClient
import WireContract

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// File checks behind `GatewayConfiguration.validate()`. Messages describe the file (path, mode,
/// size) but never its content.
enum ConfigurationFileCheck {
    /// What a referenced file must hold.
    enum Kind {
        /// A signing key, checked with WireContract's `SigningKey(path:)` (base64, ≥ 32 bytes).
        case signingKey
        /// An encryption key, checked with WireContract's `EncryptionKey(path:)` (base64, 32 bytes).
        case encryptionKey
        /// PEM with a `-----BEGIN <marker>` block (certificate or private key).
        case pem(marker: String)
        /// A NATS `.creds` file, checked with `NATSCredentials.load(credentialsFile:)`.
        case natsCredentials
        /// An NKey user seed (`SU…`), checked with `NATSCredentials.loadSeed(file:)`.
        case nkeySeed
        /// A non-empty line of secret text (password or token).
        case secretText
        /// Any readable file (Wazuh data).
        case readable
    }

    /// Checks one referenced file; a secret file must not be accessible to group or others.
    static func check(_ path: String, kind: Kind, secret: Bool) -> [String] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT {
                return ["file \(path) does not exist"]
            }
            return ["file \(path) cannot be reached: \(String(cString: strerror(errno)))"]
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            return ["\(path) is not a regular file"]
        }
        let permissions = info.st_mode & 0o7777
        if secret, permissions & 0o077 != 0 {
            return [
                "file \(path) has mode \(String(permissions, radix: 8, uppercase: false).leftPadded(to: 4)); "
                    + "a secret file must not be readable or writable by group or others (chmod 600 \(path))"
            ]
        }
        guard access(path, R_OK) == 0 else {
            return ["file \(path) is not readable by this user"]
        }
        if case .readable = kind {
            return []
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return ["file \(path) cannot be read"]
        }
        return self.checkContent(data, path: path, kind: kind)
    }

    private static func checkContent(_ data: Data, path: String, kind: Kind) -> [String] {
        let text = String(decoding: data, as: UTF8.self).trimmingWhitespace()
        switch kind {
        case .signingKey:
            // WireContract's loader: the same checks the gateway makes when it loads the key.
            do {
                _ = try SigningKey(path: path)
                return []
            } catch {
                return [error.description]
            }
        case .encryptionKey:
            do {
                _ = try EncryptionKey(path: path)
                return []
            } catch {
                return [error.description]
            }
        case .pem(let marker):
            return text.contains("-----BEGIN ") && text.contains(marker)
                ? [] : ["file \(path) is not PEM with a \(marker) block"]
        case .natsCredentials:
            // The NATS client's own loader: the same parsing `run` will do when it connects.
            do {
                _ = try NATSCredentials.load(credentialsFile: path)
                return []
            } catch {
                return ["\(error)"]
            }
        case .nkeySeed:
            do {
                _ = try NATSCredentials.loadSeed(file: path)
                return []
            } catch {
                return ["\(error)"]
            }
        case .secretText:
            return text.isEmpty ? ["file \(path) is empty"] : []
        case .readable:
            return []
        }
    }

    /// A configuration file holding an inline secret must be private, like a key file.
    static func exposedSecretProblem(in configurationFile: String) -> String? {
        var info = stat()
        guard stat(configurationFile, &info) == 0, info.st_mode & 0o077 != 0 else { return nil }
        let mode = String(info.st_mode & 0o7777, radix: 8)
        return "is set inline in \(configurationFile), which has mode 0\(mode); make the file private (chmod 600)"
            + " or use a *_file key or the WAZUH_NATS_GATEWAY_NATS_* environment variable"
    }

    /// The outbox database: an existing file must be a writable regular file; otherwise the nearest
    /// existing ancestor directory must be writable so the gateway can create it.
    static func checkWritableDatabase(_ path: String) -> [String] {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFREG else { return ["\(path) is not a regular file"] }
            return access(path, R_OK | W_OK) == 0 ? [] : ["file \(path) is not readable and writable by this user"]
        }
        var directory = (path as NSString).deletingLastPathComponent
        if directory.isEmpty { directory = "." }
        while stat(directory, &info) != 0 {
            let parent = (directory as NSString).deletingLastPathComponent
            if parent == directory || parent.isEmpty { break }
            directory = parent
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            return ["cannot create \(path): \(directory) is not a directory"]
        }
        return access(directory, W_OK | X_OK) == 0
            ? [] : ["cannot create \(path): directory \(directory) is not writable by this user"]
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - self.count)) + self
    }
}
