import Foundation
import NATSClient
import NATSTestSupport
import ReliabilityChecker
import Testing
import WazuhSimulator

@testable import Gateway

/// A 3-node nats-server cluster on loopback, the gateway given all three URLs and a stream with three
/// replicas. Mid-storm the node leading the stream is killed, later a second one (the stream loses its
/// quorum), then both come back: nothing may be lost or stored twice; the longest delivery gap is measured.
@Suite(.serialized) struct ReliabilityClusterTests {
    /// Three JetStream nodes routed to each other.
    final class Cluster: Sendable {
        let nodes: [NATSServerProcess]
        let names: [String]

        init() throws {
            let routePorts = try (0..<3).map { _ in try NATSServerProcess.freePort() }
            var nodes: [NATSServerProcess] = []
            var names: [String] = []
            for index in 0..<3 {
                let name = "reliability-n\(index + 1)"
                let routes = routePorts.enumerated().filter { $0.offset != index }
                    .map { "nats-route://127.0.0.1:\($0.element)" }.joined(separator: ", ")
                let extra = """
                    server_name: \(name)
                    cluster {
                      name: reliability
                      listen: 127.0.0.1:\(routePorts[index])
                      routes: [\(routes)]
                    }

                    """
                nodes.append(try NATSServerProcess(jetStream: true, extraConfig: extra))
                names.append(name)
            }
            self.nodes = nodes
            self.names = names
        }

        var urls: String { nodes.map(\.url).joined(separator: ",") }

        func start() async throws {
            for node in nodes { try await node.start() }
        }

        func stop() async {
            for node in nodes { await node.stop() }
        }

        /// The name of the node leading `stream` (`$JS.API.STREAM.INFO` → `cluster.leader`), asked of any live node.
        func leader(of stream: String) async -> String? {
            for node in nodes where node.processIdentifier != nil {
                guard var options = try? NATSConnectionOptions(url: node.url) else { continue }
                options.reconnect = .disabled
                options.connectTimeout = .seconds(2)
                guard let connection = try? await NATSConnection.connect(options: options) else { continue }
                let reply = try? await connection.request(
                    subject: "$JS.API.STREAM.INFO." + stream, timeout: .seconds(3))
                await connection.close()
                guard let reply,
                    let object = try? JSONSerialization.jsonObject(with: Data(reply.payloadBytes)) as? [String: Any],
                    let cluster = object["cluster"] as? [String: Any], let leader = cluster["leader"] as? String
                else { continue }
                return leader
            }
            return nil
        }

        func node(named name: String) -> NATSServerProcess? {
            names.firstIndex(of: name).map { nodes[$0] }
        }
    }

    /// The harness's configuration file pointed at every node of `cluster`, with three stream replicas.
    static func clusterConfiguration(_ harness: DaemonHarness, cluster: Cluster) throws -> String {
        let path = try DaemonExecutableTests.writeConfiguration(harness, shutdownTimeout: "5s")
        var yaml = try String(contentsOfFile: path, encoding: .utf8)
        yaml = yaml.replacingOccurrences(
            of: "  url: \"\(harness.server.url)\"\n", with: "  url: \"\(cluster.urls)\"\n  stream_replicas: 3\n")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func storm(_ driver: ReliabilityStormDriver, for duration: Duration) async throws {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            await driver.observe()
            try driver.step()
            try await Task.sleep(for: .milliseconds(40))
        }
    }

    @Test func streamLeaderAndThenASecondNodeKilledMidStormLoseAndRepeatNothing() async throws {
        let seed = ReliabilityStormTests.seed
        let soak = ReliabilityStormTests.soak
        let harness = try DaemonHarness()
        let cluster = try Cluster()
        try await cluster.start()
        let truthPath = harness.directory + "/ground-truth.jsonl"
        let simulator = try WazuhSimulator(
            configuration: .init(
                databasePath: harness.databasePath, agentCount: soak ? 1000 : 200, seed: seed,
                groundTruthLogPath: truthPath))
        let slot = GatewaySlot(configPath: try Self.clusterConfiguration(harness, cluster: cluster))
        let stream = harness.configuration.nats.stream
        let reader = StreamReader(urls: cluster.urls, stream: stream, opener: try harness.opener())
        try await slot.running(servers: cluster.nodes, closing: reader) {
            let port = try await slot.start().monitoringPort()
            try await eventually("the gateway ready", timeout: .seconds(60)) {
                try await LoopbackHTTP.get(port: port, path: "/readyz").status == 200
            }
            let driver = ReliabilityStormDriver(simulator: simulator, reader: reader, seed: seed)
            // The stream exists (and has a leader) once the first events are delivered.
            try await Self.storm(driver, for: .seconds(3))
            var leader: String?
            try await eventually("a stream leader", timeout: .seconds(60), poll: .milliseconds(200)) {
                await driver.observe()
                try driver.step()
                leader = await cluster.leader(of: stream)
                return leader != nil && driver.statusEvents > 0
            }
            let firstLeader = try #require(leader)
            let first = try #require(cluster.node(named: firstLeader))
            await first.kill()
            try await Self.storm(driver, for: .seconds(soak ? 30 : 6))
            // A second node: one of three left, the stream has no quorum until a node returns.
            let second = try #require(cluster.nodes.first { $0 !== first })
            await second.kill()
            try await Self.storm(driver, for: .seconds(soak ? 20 : 4))
            try await first.start()
            try await Self.storm(driver, for: .seconds(soak ? 20 : 4))
            try await second.start()
            try await Self.storm(driver, for: .seconds(soak ? 20 : 4))
            try driver.finish()
            try await eventually(
                "every committed transition delivered (seed \(seed))", timeout: .seconds(120), poll: .milliseconds(100)
            ) {
                await driver.observe()
                return driver.unsettled.isEmpty
            }
            let newLeader = await cluster.leader(of: stream)
            let last = try await slot.terminate(within: .seconds(25))
            #expect(last.status == 0, "stderr: \(slot.stderrTail)")
            await reader.close()
            let report = try await ReliabilityStormTests.judge(
                harness: harness, truthPath: truthPath, urls: cluster.urls)
            #expect(report.passed, "seed \(seed): \(report)")
            #expect(report.deliveredTransitions == report.committedTransitions)
            ReliabilityStormTests.report(
                soak ? "cluster-failover-soak" : "cluster-failover",
                [
                    ("seed", "\(seed)"), ("committed", "\(report.committedTransitions)"),
                    ("status_events", "\(report.statusEvents)"), ("messages", "\(report.messages)"),
                    ("first_leader", firstLeader), ("leader_at_end", newLeader ?? "?"), ("nodes_killed", "2"),
                    ("restart_storms", "\(driver.restartStorms)"), ("lost", "\(report.lostTransitions)"),
                    ("duplicates", "\(report.duplicates)"),
                    ("peak_rss_mib", String(format: "%.1f", slot.peakResidentMiB)),
                    ("longest_gap_ms", "\(ReliabilityStormTests.milliseconds(driver.longestGap))"),
                ])
        }
    }
}
