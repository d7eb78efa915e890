// swift-tools-version:6.0
import PackageDescription

// Benchmarks for the WazuhSource target: read+diff time, snapshot size, commit-to-emit latency.
// Build and run in release: `swift run -c release source-benchmark` (from Benchmarks/source).
let package = Package(
    name: "source-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "wazuh-nats-gateway", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "source-benchmark",
            dependencies: [
                .product(name: "WazuhSource", package: "wazuh-nats-gateway"),
                .product(name: "WazuhSimulator", package: "wazuh-nats-gateway"),
            ],
            path: "Sources/SourceBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
