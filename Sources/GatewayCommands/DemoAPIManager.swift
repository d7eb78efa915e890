import Foundation
import Logging
import WazuhSimulator

/// The second simulated manager of `demo --managers 2`: its own fleet, which the gateway reads
/// through the simulator's Wazuh REST API (HTTPS, login, JWT, paging) rather than a global.db, as
/// for a manager the SOC cannot install the gateway on.
///
/// Its files sit in `<state>/manager-2/`: `global.db`, the API's CA (`api-ca.pem`) and the password
/// file the gateway reads (`api.password`, 0600; a fresh random password every run).
struct DemoAPIManager: Sendable {
    static let node = "demo-manager-2"
    static let user = "wazuh-wui"

    var directory: String
    var database: String { self.directory + "/global.db" }
    var passwordFile: String { self.directory + "/api.password" }
    var caFile: String { self.directory + "/api-ca.pem" }

    init(root: String) {
        self.directory = root + "/manager-2"
    }

    /// Creates the manager's directory and password file, and removes the previous run's database.
    func prepare() throws(OperatorCommandError) {
        let files = FileManager.default
        do {
            try files.createDirectory(
                atPath: self.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for stale in [self.database, self.database + "-journal"] where files.fileExists(atPath: stale) {
                try files.removeItem(atPath: stale)
            }
            let password = (0..<24).map { _ in
                "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement()!
            }
            _ = files.createFile(
                atPath: self.passwordFile, contents: Data((String(password) + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: self.passwordFile)
        } catch {
            throw OperatorCommandError(.processFailure, "cannot prepare \(self.directory): \(error)")
        }
    }

    /// The password written by ``prepare()``.
    func password() throws(OperatorCommandError) -> String {
        guard let data = FileManager.default.contents(atPath: self.passwordFile),
            let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first
        else {
            throw OperatorCommandError(.processFailure, "cannot read \(self.passwordFile)")
        }
        return String(line)
    }

    /// Creates the fleet, serves its API on `port` and drives it with ``DemoScript`` until cancelled.
    /// `ready` gets `nil` once the API listens, or the error that stopped it.
    func run(
        agents: Int, port: Int, logger: Logger, ready: @escaping @Sendable (OperatorCommandError?) -> Void
    ) async throws {
        let simulator: WazuhSimulator
        let server: SimulatedAPIServer
        do {
            simulator = try WazuhSimulator(
                configuration: WazuhSimulator.Configuration(
                    databasePath: self.database, agentCount: agents, seed: UInt64(Date().timeIntervalSince1970) &+ 2,
                    commitIdle: .milliseconds(500), commitMaxAge: .seconds(2), reconnectPeriod: .seconds(20),
                    managerName: Self.node),
                logger: logger)
            server = try simulator.makeAPIServer(
                configuration: .init(
                    port: port, user: Self.user, password: try self.password(), directory: self.directory),
                logger: logger)
            try await server.start()
        } catch {
            ready(OperatorCommandError(.processFailure, "cannot start the second simulated manager's API: \(error)"))
            return
        }
        ready(nil)
        var script = DemoScript()
        let start = ContinuousClock.now
        while !Task.isCancelled {
            try script.advance(simulator, elapsedSeconds: Int((ContinuousClock.now - start).components.seconds))
            do {
                try await Task.sleep(for: .milliseconds(200))
            } catch {
                break
            }
        }
        try? simulator.commit()
        await server.stop()
        try? simulator.close()
    }

    /// The `managers:` list replacing the demo file's `wazuh:` section: that section as the first
    /// entry, this API manager as the second.
    func managersSection(replacingWazuhSectionOf text: String, apiPort: Int) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: "wazuh:") else { return text }
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix("  ") { end += 1 }
        var entry = ["managers:"]
        for (offset, line) in lines[(start + 1)..<end].enumerated() {
            entry.append((offset == 0 ? "  - " : "    ") + line.dropFirst(2))
        }
        entry += [
            "  - manager_node: \"\(Self.node)\"",
            "    source: api",
            "    api_url: \"https://localhost:\(apiPort)\"",
            "    api_user: \"\(Self.user)\"",
            "    api_password_file: \"\(self.passwordFile)\"",
            "    api_ca: \"\(self.caFile)\"",
            "    api_poll_interval: \"1s\"",
        ]
        lines.replaceSubrange(start..<end, with: entry)
        return lines.joined(separator: "\n")
    }
}

extension DemoRun {
    /// Starts the second manager (its fleet and REST API) and waits until the API listens.
    func startAPIManager(
        _ manager: DemoAPIManager, port: Int, stages: Stages, notice: @Sendable (String) -> Void
    ) async throws(OperatorCommandError) {
        let (ready, continuation) = AsyncStream<OperatorCommandError?>.makeStream()
        let (agents, logger) = (self.agents, self.logger)
        stages.apiManager = Task {
            try await manager.run(agents: agents, port: port, logger: logger) { problem in
                continuation.yield(problem)
                continuation.finish()
            }
        }
        for await problem in ready {
            if let problem { throw problem }
        }
        notice(
            "demo: second simulated manager (\(DemoAPIManager.node), \(self.agents) agents) read through its "
                + "REST API at https://localhost:\(port)")
    }
}
