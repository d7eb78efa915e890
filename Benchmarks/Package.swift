// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (`main`, `wt-nats`, …), so derive it.
let rootIdentity = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// The benchmark programs: publish benchmarks of our NATS client (`run.sh` runs them side by side with the C
/// client, `c/js_bench.c`), the restart-storm delivery benchmark (`delivery/run.sh`), the end-to-end suite's
/// simulated manager (`suite.sh`, `make bench`) and the dashboard's SSE cost.
let package = Package(
    name: "wazuh-nats-gateway-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "NATSPublishBench",
            dependencies: [
                .product(name: "NATSClient", package: rootIdentity),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The dashboard's Server-Sent Events cost at a fixed change rate (see its main.swift).
        .executableTarget(
            name: "DashboardSSEBench",
            dependencies: [
                .product(name: "Gateway", package: rootIdentity),
                .product(name: "WazuhSource", package: rootIdentity),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The manager-restart storm: outbox -> acknowledged JetStream, beside the raw clients (delivery/run.sh).
        .executableTarget(
            name: "delivery-benchmark",
            dependencies: [
                .product(name: "Gateway", package: rootIdentity),
                .product(name: "NATSClient", package: rootIdentity),
                .product(name: "NATSTestSupport", package: rootIdentity),
                .product(name: "Outbox", package: rootIdentity),
                .product(name: "WazuhSimulator", package: rootIdentity),
                .product(name: "WazuhSource", package: rootIdentity),
                .product(name: "WireContract", package: rootIdentity),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/DeliveryBenchmark"
        ),
        // The end-to-end suite's simulated manager: keepalive churn, status changes at a fixed rate, and the
        // gateway's CPU and memory sampled per phase (suite.sh).
        .executableTarget(
            name: "e2e-load",
            dependencies: [.product(name: "WazuhSimulator", package: rootIdentity)],
            path: "Sources/E2ELoad"
        ),
    ],
    swiftLanguageModes: [.v6]
)
