import Foundation

/// Where the demo's gateway read agent status, as its log tells: whether wazuh-db's socket was the
/// source, and how many changes it saw there before global.db had them (the gateway logs a running
/// total, `changes_before_file_total`, each time; the metric `changes_seen_before_file_total` counts
/// the same).
struct DemoSourceSummary: Sendable, Hashable {
    /// The gateway logged that it reads wazuh-db's socket.
    var readThroughSocket = false
    /// Changes first seen through the socket while global.db lacked them.
    var changesBeforeFile = 0

    init(log text: Substring) {
        for line in text.split(separator: "\n") {
            if line.contains("agent status source is wazuh-db's socket") { self.readThroughSocket = true }
            guard let key = line.range(of: "changes_before_file_total") else { continue }
            let digits = line[key.upperBound...].drop { !$0.isNumber }.prefix { $0.isNumber }
            if let total = Int(digits) { self.changesBeforeFile = max(self.changesBeforeFile, total) }
        }
    }

    /// Reads the log at `path` (an unreadable log says nothing).
    init(logPath path: String) {
        self.init(log: Substring((try? String(contentsOfFile: path, encoding: .utf8)) ?? ""))
    }

    /// The demo's summary line.
    var line: String {
        guard self.readThroughSocket else {
            return "demo: agent status came from global.db only (wazuh-db's socket never answered)"
        }
        return "demo: agent status came through wazuh-db's socket (queue/db/wdb); \(self.changesBeforeFile) "
            + "changes were seen there before global.db had them (metric changes_seen_before_file_total)"
    }
}
