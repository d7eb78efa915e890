import Foundation
import Testing

@testable import Gateway
@testable import GatewayCommands

#if canImport(Glibc)
    import Glibc
#endif

struct DemoTests {
    @Test func demoPrintsVerifiedEventsAndStopsEverything() async throws {
        let fixture = try CommandFixture()
        let state = fixture.directory + "/demo-state"
        let lines = LineCollector()
        let notices = LineCollector()
        let demo = DemoRun(
            stateDirectory: state, agents: 8, duration: .seconds(10), gatewayExecutable: BuiltExecutable.path,
            format: .compact)
        let report = try await demo.run(output: lines.append, notice: notices.append)
        let log = (try? String(contentsOfFile: state + "/gateway.log", encoding: .utf8)) ?? "(no gateway log)"

        #expect(report.statusEventsVerified > 0, "gateway log: \(log.suffix(3000))")
        #expect(report.messagesFailed == 0)
        #expect(report.eventsDetected > 0)
        #expect(report.messagesPublished > 0)
        #expect(lines.lines.contains { $0.contains("agent ") && $0.contains("[verified]") })
        #expect(report.gatewayExitStatus == 0, "gateway log: \(log.suffix(3000))")
        #expect(report.childProcessIDs.count == 2)
        for pid in report.childProcessIDs {
            #expect(kill(pid, 0) != 0, "process \(pid) is still running")
        }
        #expect(notices.lines.last?.contains("events detected") == true)
        // Status came through wazuh-db's socket, some of it before global.db had it, and the demo says so.
        #expect(report.statusFromSocket, "gateway log: \(log.suffix(3000))")
        #expect(report.changesSeenBeforeFile > 0, "gateway log: \(log.suffix(3000))")
        #expect(notices.lines.contains { $0.contains("came through wazuh-db's socket") })
        // Keys are private.
        let attributes = try FileManager.default.attributesOfItem(atPath: state + "/signing.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func theDemoSummaryReadsTheSourceFromTextAndJSONLogs() {
        let text = """
            2026-12-05T12:00:00Z notice source: agent status source is wazuh-db's socket wazuh.source=wazuh-db
            2026-12-05T12:00:01Z info source: changes seen through wazuh-db's socket before global.db had them wazuh.changes=2 wazuh.changes_before_file_total=2
            2026-12-05T12:00:03Z info source: changes seen through wazuh-db's socket before global.db had them wazuh.changes=3 wazuh.changes_before_file_total=5
            """
        let summary = DemoSourceSummary(log: Substring(text))
        #expect(summary.readThroughSocket && summary.changesBeforeFile == 5)
        let json = #"{"message":"changes seen","wazuh.changes_before_file_total":"7"}"#
        #expect(DemoSourceSummary(log: Substring(json)).changesBeforeFile == 7)
        #expect(!DemoSourceSummary(log: "").readThroughSocket)
        #expect(DemoSourceSummary(log: "").line.contains("global.db only"))
    }

    @Test func demoExplainsHowToInstallAMissingNATSServer() async throws {
        let fixture = try CommandFixture()
        let demo = DemoRun(
            stateDirectory: fixture.directory + "/demo-state", duration: .seconds(1),
            gatewayExecutable: BuiltExecutable.path, environment: ["PATH": fixture.directory])
        // Only meaningful where no nats-server is installed at the fixed locations.
        let locations: [String] = ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        let installed = locations.contains { FileManager.default.isExecutableFile(atPath: $0) }
        if installed {
            #expect(DemoNATSServer.locate(environment: ["PATH": fixture.directory]) != nil)
            #expect(DemoNATSServer.installAdvice.contains("apt-get install nats-server"))
            #expect(DemoNATSServer.installAdvice.contains("make deps"))
        } else {
            await #expect {
                try await demo.run(output: { _ in }, notice: { _ in })
            } throws: { error in
                (error as? OperatorCommandError)?.description.contains("apt-get install nats-server") == true
            }
        }
    }
}
