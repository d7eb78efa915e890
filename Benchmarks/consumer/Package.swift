// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (`main`, `wt-js-consumer`, …), so derive it.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

// Reading the stream: `subscribe --stream` and the raw consumer API against the raw stream read rate.
// Run `Benchmarks/consumer/run.sh`.
let package = Package(
    name: "consumer-benchmark",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        .executableTarget(
            name: "consumer-benchmark",
            dependencies: [
                .product(name: "GatewayCommands", package: root),
                .product(name: "NATSClient", package: root),
                .product(name: "NATSTestSupport", package: root),
                .product(name: "WireContract", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/ConsumerBenchmark"
        )
    ],
    swiftLanguageModes: [.v6]
)
