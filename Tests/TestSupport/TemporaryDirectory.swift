import Foundation

/// A fresh directory under the system temp directory for one test, removed when the last reference goes.
///
/// The one temporary-directory type of every test target (they all link `NATSTestSupport`).
public final class TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates `TMPDIR/PREFIX-UUID`.
    public init(prefix: String = "tests") throws {
        self.path = FileManager.default.temporaryDirectory.path + "/\(prefix)-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }

    /// The path of `name` inside the directory (nothing is created).
    public func file(_ name: String) -> String { self.path + "/" + name }

    /// Writes `text` to `name` inside the directory (creating subdirectories) with permission bits `mode`, and
    /// returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let file = self.file(name)
        let directory = (file as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }
}
