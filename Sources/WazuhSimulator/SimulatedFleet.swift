/// A small, seedable random generator (SplitMix64): the same seed gives the same simulation.
public struct SimulatorRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What the simulator remembers of each agent, mirroring its row.
struct SimulatedAgent: Sendable {
    var id: Int
    var name: String
    var status: String
    var dateAdd: Int64
    var lastKeepalive: Int64?
    var disconnectionTime: Int64
    var statusCode: Int
    var nodeName: String
    /// Wall clock (Unix ms) when the simulator last wrote this agent's status, in its open transaction.
    var statusWrittenAtMilliseconds: Int64?
}

/// Realistic agent attributes: host names, addresses, operating systems, key material.
struct FleetProfile {
    static let roles = [
        "web", "db", "app", "cache", "mail", "dns", "vpn", "build", "k8s-node", "fileserver", "proxy", "ws", "laptop",
    ]
    static let sites = ["prod", "staging", "eu-west", "us-east", "hq", "branch", "dmz", "lab"]

    struct OperatingSystem {
        var name: String
        var version: String
        var major: String
        var minor: String
        var platform: String
        var arch: String
        var type: String
        var codename: String
    }

    static let systems = [
        OperatingSystem(
            name: "Ubuntu", version: "22.04.4 LTS", major: "22", minor: "04", platform: "ubuntu", arch: "x86_64",
            type: "linux", codename: "Jammy Jellyfish"),
        OperatingSystem(
            name: "Debian GNU/Linux", version: "12", major: "12", minor: "", platform: "debian", arch: "x86_64",
            type: "linux", codename: "bookworm"),
        OperatingSystem(
            name: "Red Hat Enterprise Linux", version: "9.3", major: "9", minor: "3", platform: "rhel",
            arch: "x86_64", type: "linux", codename: "Plow"),
        OperatingSystem(
            name: "Microsoft Windows Server 2022 Datacenter", version: "10.0.20348.2340", major: "10", minor: "0",
            platform: "windows", arch: "x86_64", type: "windows", codename: ""),
        OperatingSystem(
            name: "Microsoft Windows 11 Pro", version: "10.0.22631.3296", major: "10", minor: "0",
            platform: "windows", arch: "x86_64", type: "windows", codename: ""),
        OperatingSystem(
            name: "macOS", version: "14.4", major: "14", minor: "4", platform: "darwin", arch: "arm64",
            type: "macos", codename: "Sonoma"),
        OperatingSystem(
            name: "Amazon Linux", version: "2023", major: "2023", minor: "", platform: "amzn", arch: "aarch64",
            type: "linux", codename: ""),
    ]

    static func name(id: Int, random: inout SimulatorRandom) -> String {
        let role = roles[Int.random(in: 0..<roles.count, using: &random)]
        let site = sites[Int.random(in: 0..<sites.count, using: &random)]
        return "\(role)-\(site)-\(String(id, radix: 10))"
    }

    static func ip(id: Int) -> String {
        "10.\((id >> 16) & 0xff).\((id >> 8) & 0xff).\(id & 0xff)"
    }

    /// 64 random hex characters, like a real agent key (the reader must never select it).
    static func key(random: inout SimulatorRandom) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for _ in 0..<64 {
            bytes.append(digits[Int(random.next() & 15)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
