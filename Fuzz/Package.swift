// swift-tools-version:6.0
import Foundation
import PackageDescription

// A path dependency's identity is its directory name (`main`, `wt-nats`, …), so derive it.
let rootIdentity = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().lastPathComponent.lowercased()

/// libFuzzer targets for the pure parsers that read untrusted bytes (NATS protocol and auth, the wire contract). Build with `run.sh` (release, `-sanitize=fuzzer`).
let package = Package(
    name: "wazuh-nats-gateway-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        // libFuzzer's driver, shared by the fuzz targets.
        .target(name: "FuzzSupport"),
        // The server-to-client protocol parser (INFO, MSG, HMSG, PING, PONG, +OK, -ERR).
        .executableTarget(
            name: "NATSParserFuzz",
            dependencies: ["FuzzSupport", .product(name: "NATSClient", package: rootIdentity)]
        ),
        // NKey seeds, public keys, `.creds` text and JWTs.
        .executableTarget(
            name: "NATSAuthFuzz",
            dependencies: ["FuzzSupport", .product(name: "NATSClient", package: rootIdentity)]
        ),
        // The wire contract as a consumer runs it: JSON parsing, canonical JSON, decrypt, decompress, verify.
        .executableTarget(
            name: "WireContractFuzz",
            dependencies: ["FuzzSupport", .product(name: "WireContract", package: rootIdentity)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
