// swift-tools-version:6.0
import PackageDescription

// Cost of the security signals per event: detection + journal with anomaly detection on vs off, and
// marking delivered with the audit log on vs off, in the same run. Build and run in release:
//   swift run -c release --package-path Benchmarks/security security-benchmark [--rounds N]
let package = Package(
    name: "security-benchmark",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "wazuh-nats-gateway", path: "../..")
    ],
    targets: [
        .executableTarget(
            name: "security-benchmark",
            dependencies: [
                .product(name: "Gateway", package: "wazuh-nats-gateway"),
                .product(name: "Outbox", package: "wazuh-nats-gateway"),
                .product(name: "WireContract", package: "wazuh-nats-gateway"),
                .product(name: "WazuhSource", package: "wazuh-nats-gateway"),
            ],
            path: "Sources/SecurityBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
