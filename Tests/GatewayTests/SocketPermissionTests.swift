import Foundation
import Testing
import WazuhSimulator

#if canImport(Glibc)
    import Glibc
#endif

/// wazuh-db's socket refusing the gateway's user: the gateway, run as `nobody` against a socket only
/// root may open, says why and reads global.db instead; it moves to the socket once allowed.
/// (Root connects to any socket, so the gateway must really run as another user: `setpriv`.)
struct SocketPermissionTests {
    static let setpriv = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    /// Root, `setpriv`, and a built gateway `nobody` can execute.
    static let canRunAsNobody: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: setpriv[0]),
            let gateway = DaemonExecutableTests.executablePath
        else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: setpriv[0])
        probe.arguments = Array(setpriv.dropFirst()) + [gateway, "--help"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    @Test(.enabled(if: Self.canRunAsNobody, "needs root, setpriv and a gateway nobody can run"))
    func aSocketOnlyRootMayOpenFallsBackToTheFileWithAClearError() async throws {
        let harness = try DaemonHarness()
        let simulator = try harness.makeSimulator(agentCount: 20)
        // wazuh-db's socket, owned by root, mode 0600: nobody may not connect.
        let queue = harness.directory + "/queue"
        try FileManager.default.createDirectory(atPath: queue, withIntermediateDirectories: true)
        let socketPath = queue + "/wdb"
        let server = try simulator.serveWazuhDB(at: socketPath)
        defer { server.stop() }
        #expect(chmod(socketPath, 0o600) == 0)
        // Everything else the gateway needs belongs to nobody (the database stays root's, readable).
        for path in [harness.directory, harness.directory + "/keys", harness.signingKeyPath] {
            #expect(chown(path, 65534, 65534) == 0)
        }
        #expect(chmod(harness.databasePath, 0o644) == 0)
        var yaml = try String(
            contentsOfFile: try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "2s"),
            encoding: .utf8)
        yaml = yaml.replacingOccurrences(
            of: "  poll_interval: \"200ms\"\n",
            with: "  poll_interval: \"200ms\"\n  source: \"auto\"\n  socket_path: \"\(socketPath)\"\n"
                + "  socket_poll_interval: \"100ms\"\n")
        let configPath = harness.directory + "/gateway-nobody.yaml"
        try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
        #expect(chmod(configPath, 0o644) == 0)

        let gateway = try DaemonExecutableTests.GatewayProcess(configPath: configPath, launcher: Self.setpriv)
        defer { gateway.forceStop() }
        let port = try await gateway.monitoringPort()
        try await eventually("the clear error and the fallback", timeout: .seconds(30)) {
            gateway.stderr.contains("falling back to global.db")
                && gateway.stderr.contains("the gateway needs group wazuh or root")
        }
        try await eventually("the file as the source in /readyz", timeout: .seconds(30)) {
            try await LoopbackHTTP.get(port: port, path: "/readyz").body.contains("\"agent_status_from\":\"file\"")
        }
        let id = try #require(simulator.agents(withStatus: "active").first)
        try simulator.apply(.stop(agentID: id))
        try simulator.commit()
        try await DaemonExecutableTests.waitForDetected(1, port: port, timeout: .seconds(30))

        // Group wazuh granted, in effect: the socket opens to everyone and the gateway moves to it.
        #expect(chmod(socketPath, 0o666) == 0)
        try await eventually("wazuh-db's socket as the source in /readyz", timeout: .seconds(30)) {
            try await LoopbackHTTP.get(port: port, path: "/readyz").body.contains(
                "\"agent_status_from\":\"wazuh-db\"")
        }
        #expect(gateway.process.isRunning)
        gateway.signal(SIGTERM)
        _ = try await gateway.waitForExit(within: .seconds(15))
    }
}
