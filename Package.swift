// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "wazuh-nats-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "wazuh-nats-gateway", targets: ["wazuh-nats-gateway"]),
        .library(name: "NATSClient", targets: ["NATSClient"]),
        .library(name: "WireContract", targets: ["WireContract"]),
        .library(name: "WazuhSource", targets: ["WazuhSource"]),
        .library(name: "WazuhAPISource", targets: ["WazuhAPISource"]),
        .library(name: "WazuhSimulator", targets: ["WazuhSimulator"]),
        .library(name: "Outbox", targets: ["Outbox"]),
        .library(name: "Gateway", targets: ["Gateway"]),
        .library(name: "Timekeeping", targets: ["Timekeeping"]),
        .library(name: "GatewayCommands", targets: ["GatewayCommands"]),
        .library(name: "NATSTestSupport", targets: ["NATSTestSupport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
    ],
    targets: [
        // liblz4 from the system (Debian: liblz4-dev); LZ4 frame format.
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]
        ),
        // Our NATS protocol client on SwiftNIO. Knows nothing about Wazuh.
        .target(
            name: "NATSClient",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Event and batch model, canonical JSON, signing, compression, encryption.
        .target(
            name: "WireContract",
            dependencies: [
                "CLZ4",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The injected clock (monotonic and wall time) and the one Duration-to-milliseconds conversion.
        .target(name: "Timekeeping"),
        // Reads Wazuh's global.db read-only, watches it, diffs snapshots. Knows nothing about NATS.
        .target(
            name: "WazuhSource",
            dependencies: [
                "Timekeeping",
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Reads agent status from a remote manager's Wazuh REST API (HTTPS, JWT, paging, rate limit).
        // Keeps WazuhSource itself free of HTTP.
        .target(
            name: "WazuhAPISource",
            dependencies: [
                "Timekeeping",
                "WazuhSource",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A Wazuh manager simulator that writes global.db the way wazuh-db does, and serves its
        // socket and REST API.
        .target(
            name: "WazuhSimulator",
            dependencies: [
                "Timekeeping",
                "WazuhSource",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Outbox schema migrations, one per file, compiled in (no resource bundles at run time).
        .target(name: "OutboxMigrations", path: "migrations"),
        // The SQLite outbox journal.
        .target(
            name: "Outbox",
            dependencies: [
                "OutboxMigrations",
                "Timekeeping",
                "WireContract",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The daemon: detection and delivery services, configuration, HTTP, metrics.
        .target(
            name: "Gateway",
            dependencies: [
                "Timekeeping",
                "NATSClient",
                "WireContract",
                "WazuhSource",
                "WazuhAPISource",
                "Outbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Operator commands: demo, simulate, subscribe, replay, outbox inspection, keygen, check-config.
        // The daemon library does not link the simulator; only these commands do.
        .target(
            name: "GatewayCommands",
            dependencies: [
                "Gateway",
                "Timekeeping",
                "NATSClient",
                "WireContract",
                "WazuhSimulator",
                "Outbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "wazuh-nats-gateway",
            dependencies: [
                "Gateway",
                "GatewayCommands",
                "Outbox",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The one test-support target of the tests and benchmarks: real nats-server processes (free ports, JetStream,
        // TLS, auth), temporary directories, polling, the built executable, running a service.
        .target(
            name: "NATSTestSupport",
            dependencies: [
                "NATSClient",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport"
        ),
        // The reliability checker: reads a whole stream back on its own and judges it against the
        // simulator's ground truth (used by the reliability scenarios in GatewayTests).
        .target(
            name: "ReliabilityChecker",
            dependencies: [
                "NATSClient", "WireContract", "WazuhSource", "WazuhSimulator",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Tests/ReliabilityChecker"
        ),
        .testTarget(
            name: "NATSClientTests",
            dependencies: [
                "NATSClient",
                "NATSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "WireContractTests", dependencies: ["WireContract", "NATSTestSupport"]),
        .testTarget(
            name: "WazuhSourceTests",
            dependencies: [
                "WazuhSource", "WazuhSimulator", "Timekeeping", "NATSTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "WazuhAPISourceTests",
            dependencies: [
                "WazuhAPISource", "WazuhSource", "WazuhSimulator", "Timekeeping", "NATSTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "OutboxTests",
            dependencies: [
                "Outbox", "WireContract", "NATSTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway",
                "GatewayCommands",
                "NATSTestSupport",
                "NATSClient",
                "WireContract",
                "WazuhSource",
                "WazuhSimulator",
                "WazuhAPISource",
                "Outbox",
                "ReliabilityChecker",
                "Timekeeping",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
