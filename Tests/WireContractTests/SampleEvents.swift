import Foundation

@testable import WireContract

enum SampleEvents {
    /// The event whose canonical JSON and signature were computed with Python (see the tests).
    static let quoted = AgentStatusEvent(
        eventType: "status_change", eventID: "evt_001_1716897300_0123456789abcdef", agentID: "001",
        agentName: "web-\"srv\"\t01 😀 \u{2028} é", previousStatus: "Active", currentStatus: "Disconnected",
        reason: "keepalive_timeout", ipAddress: "10.0.0.5", lastKeepalive: "2024-05-28T11:55:00Z",
        managerNode: "node01", nodeName: nil, timestamp: "2024-05-28T12:00:00Z")

    /// The known-answer signing key: bytes 0, 1, ..., 31.
    static func signingKey() throws -> SigningKey {
        try SigningKey(bytes: (0..<32).map { UInt8($0) })
    }

    static func encryptionKey(_ seed: UInt8 = 9) throws -> EncryptionKey {
        try EncryptionKey(bytes: (0..<32).map { UInt8($0) &+ seed })
    }

    static func event(agent: Int, name: String = "agent") -> AgentStatusEvent {
        AgentStatusEvent(
            eventType: "status_change",
            eventID: EventID.make(
                agentID: agent, kind: "status_change", previous: "Active", current: "Disconnected",
                dateAdd: 1_700_000_000,
                transitionTime: 1_716_897_300),
            agentID: Subjects.agentToken(agent), agentName: "\(name)-\(agent)", previousStatus: "Active",
            currentStatus: "Disconnected", reason: "keepalive_timeout", ipAddress: "10.0.\(agent % 250).1",
            lastKeepalive: "2024-05-28T11:55:00Z", managerNode: "node01", nodeName: "node01",
            timestamp: "2024-05-28T12:00:00Z")
    }
}

/// Runs small Python programs for interop checks (json, hmac, lz4).
enum PythonRunner {
    static let isAvailable: Bool = (try? run("print(1)", input: [])) != nil

    /// Whether `python3 -c "import <module>"` works.
    static func hasModule(_ module: String) -> Bool {
        (try? run("import \(module)", input: [])) != nil
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ program: String, input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try stdin.fileHandleForWriting.write(contentsOf: Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        _ = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 exited with \(process.terminationStatus)")
        }
        return [UInt8](output)
    }
}
