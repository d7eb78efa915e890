import ArgumentParser
import Gateway

/// The `wazuh-nats-gateway` command line: a thin front over the Gateway library.
/// Adding a subcommand is one line in `subcommands`.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wazuh-nats-gateway",
        abstract: "Watches Wazuh agent status and delivers every change to NATS JetStream.",
        subcommands: [
            CheckConfigCommand.self,
            KeygenCommand.self,
            ReplayCommand.self,
            OutboxCommand.self,
            AuditCommand.self,
            SubscribeCommand.self,
            SimulateCommand.self,
            DemoCommand.self,
            RunCommand.self,
        ]
    )

    /// Sets the allocator up before any other thread exists, then runs the command line.
    static func main() async {
        DaemonStartup.configureAllocator()
        await Self.main(nil)
    }
}
