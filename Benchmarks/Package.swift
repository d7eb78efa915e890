// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (`main`, `wt-nats`, …), so derive it.
let rootIdentity = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// Publish benchmarks of our NATS client; `run.sh` runs them side by side with the C client (`c/js_bench.c`).
let package = Package(
    name: "wazuh-nats-gateway-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
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
    ],
    swiftLanguageModes: [.v6]
)
