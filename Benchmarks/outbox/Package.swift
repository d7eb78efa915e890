// swift-tools-version:6.0
import PackageDescription

// Benchmarks for the outbox journal and message sealing. Build and run in release:
//   swift run -c release --package-path Benchmarks/outbox outbox-benchmark
let package = Package(
    name: "outbox-benchmark",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "wazuh-nats-gateway", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "outbox-benchmark",
            dependencies: [
                .product(name: "Outbox", package: "wazuh-nats-gateway"),
                .product(name: "WireContract", package: "wazuh-nats-gateway"),
            ],
            path: "Sources/OutboxBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
