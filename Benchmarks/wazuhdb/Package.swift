// swift-tools-version:6.0
import PackageDescription

// What reading agent status through wazuh-db's socket costs wazuh-db (the simulator's server):
// queries, bytes and answering CPU per poll, incremental polls against full sweeps.
// Build and run in release: `swift run -c release wazuhdb-benchmark` (from Benchmarks/wazuhdb).
let package = Package(
    name: "wazuhdb-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "wazuh-nats-gateway", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "wazuhdb-benchmark",
            dependencies: [
                .product(name: "WazuhSource", package: "wazuh-nats-gateway"),
                .product(name: "WazuhSimulator", package: "wazuh-nats-gateway"),
            ],
            path: "Sources/WazuhDBBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
