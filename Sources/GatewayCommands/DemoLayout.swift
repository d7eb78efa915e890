import Foundation
import WireContract

extension DemoRun {
    /// Paths inside the state directory.
    struct Layout {
        var root: String
        var signingKey: String { self.root + "/signing.key" }
        var encryptionKey: String { self.root + "/encryption.key" }
        var database: String { self.root + "/ossec/queue/db/global.db" }
        var socket: String { self.root + "/ossec/queue/db/wdb" }
        var outbox: String { self.root + "/outbox.db" }
        var jetStream: String { self.root + "/jetstream" }
        var natsConfig: String { self.root + "/nats-server.conf" }
        var natsLog: String { self.root + "/nats-server.log" }
        var gatewayConfig: String { self.root + "/gateway.yaml" }
        var gatewayLog: String { self.root + "/gateway.log" }
    }

    /// Creates the state directory and keys, and removes the previous run's database, outbox, stream
    /// store and logs.
    func prepare(_ layout: Layout) throws(OperatorCommandError) {
        let files = FileManager.default
        do {
            try files.createDirectory(
                atPath: layout.root + "/ossec/queue/db", withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            for stale in [
                layout.database, layout.database + "-journal", layout.outbox, layout.outbox + "-wal",
                layout.outbox + "-shm", layout.jetStream, layout.natsLog, layout.gatewayLog,
            ] where files.fileExists(atPath: stale) {
                try files.removeItem(atPath: stale)
            }
        } catch {
            throw OperatorCommandError(.processFailure, "cannot prepare the state directory \(layout.root): \(error)")
        }
        for (path, what) in [(layout.signingKey, "signing"), (layout.encryptionKey, "encryption")]
        where !files.fileExists(atPath: path) {
            do {
                _ = try KeyFile.generate(path: path, bytes: 32)
            } catch {
                throw OperatorCommandError(.keyUnavailable, "cannot create the \(what) key: \(error)")
            }
        }
    }

    static func absolute(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
        if trimmed.hasPrefix("/") { return trimmed }
        return FileManager.default.currentDirectoryPath + "/" + trimmed
    }
}
