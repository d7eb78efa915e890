// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (`main`, `wt-delivery`, …), so derive it.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

// The 20k-agent restart-storm delivery benchmark (outbox -> acknowledged JetStream storage), beside the raw
// acknowledged publish rates of our NATS client and the C client. Run `Benchmarks/delivery/run.sh`.
let package = Package(
    name: "delivery-benchmark",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "delivery-benchmark",
            dependencies: [
                .product(name: "Gateway", package: root),
                .product(name: "NATSClient", package: root),
                .product(name: "NATSTestSupport", package: root),
                .product(name: "Outbox", package: root),
                .product(name: "WazuhSimulator", package: root),
                .product(name: "WazuhSource", package: root),
                .product(name: "WireContract", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/DeliveryBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
