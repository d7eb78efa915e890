import Foundation

/// A fresh directory under the system temp dir, removed when the test is done with it.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        self.path = base + "/wire-contract-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: false)
    }

    func file(_ name: String) -> String { self.path + "/" + name }

    deinit {
        try? FileManager.default.removeItem(atPath: self.path)
    }
}
