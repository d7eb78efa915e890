/// The contract's NATS subjects under one validated prefix.
///
/// Only the zero-padded numeric agent id and the sanitized manager node name enter a subject; no
/// agent-controlled text (names, addresses) ever does.
public struct Subjects: Sendable, Hashable {
    /// The validated prefix, e.g. `wazuh`.
    public let prefix: String

    /// Validates `prefix`: one or more dot-separated tokens of `[A-Za-z0-9_-]`.
    public init(prefix: String) throws(WireError) {
        let tokens = prefix.split(separator: ".", omittingEmptySubsequences: false)
        let valid =
            !prefix.isEmpty
            && tokens.allSatisfy { token in
                !token.isEmpty && token.utf8.allSatisfy(Self.isTokenByte)
            }
        guard valid else {
            throw WireError(
                code: .invalidSubjectPrefix,
                message:
                    "subject prefix must be dot-separated tokens of A-Z a-z 0-9 _ - (got \(prefix.debugDescription))"
            )
        }
        self.prefix = prefix
    }

    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// The agent id as it appears in subjects and events: at least three digits, zero-padded
    /// (1 → `001`, 1234 → `1234`). Negative ids keep their sign (`-01`) and never occur in Wazuh.
    public static func agentToken(_ agentID: Int) -> String {
        let digits = String(agentID.magnitude)
        let padded = String(repeating: "0", count: max(0, 3 - digits.count)) + digits
        return agentID < 0 ? "-" + padded.dropFirst() : padded
    }

    /// The manager node name as a subject token: every character outside `[A-Za-z0-9_-]` becomes `_`
    /// (one `_` per Unicode scalar); the empty name becomes `_`.
    public static func nodeToken(_ node: String) -> String {
        if node.isEmpty { return "_" }
        var result = ""
        for scalar in node.unicodeScalars {
            if scalar.isASCII, Self.isTokenByte(UInt8(scalar.value)) {
                result.unicodeScalars.append(scalar)
            } else {
                result.append("_")
            }
        }
        return result
    }

    /// `{p}.agent.{id}.status`: every status change, registration and removal.
    public func status(agentID: Int) -> String { "\(self.prefix).agent.\(Self.agentToken(agentID)).status" }
    /// `{p}.agent.{id}.connected`: additionally when the agent enters Active.
    public func connected(agentID: Int) -> String { "\(self.prefix).agent.\(Self.agentToken(agentID)).connected" }
    /// `{p}.agent.{id}.disconnected`: additionally when the agent enters Disconnected.
    public func disconnected(agentID: Int) -> String {
        "\(self.prefix).agent.\(Self.agentToken(agentID)).disconnected"
    }
    /// `{p}.agent.{id}.registered`: additionally on registration.
    public func registered(agentID: Int) -> String { "\(self.prefix).agent.\(Self.agentToken(agentID)).registered" }
    /// `{p}.agent.{id}.removed`: additionally on removal.
    public func removed(agentID: Int) -> String { "\(self.prefix).agent.\(Self.agentToken(agentID)).removed" }
    /// `{p}.security.agent_events`: one batch per detection cycle.
    public var agentEvents: String { "\(self.prefix).security.agent_events" }
    /// `{p}.security.anomaly`: every anomaly finding (contract 1.1).
    public var anomaly: String { "\(self.prefix).security.anomaly" }
    /// `{p}.agent.{id}.anomaly`: additionally, a finding about one agent (contract 1.1).
    public func anomaly(agentID: Int) -> String { "\(self.prefix).agent.\(Self.agentToken(agentID)).anomaly" }
    /// `{p}.agent.{id}.flapping`: a rate-limited agent's window summary (contract 1.1).
    public func flapping(agentID: Int) -> String { "\(self.prefix).agent.\(Self.agentToken(agentID)).flapping" }
    /// `{p}.manager.{node}.heartbeat`.
    public func heartbeat(node: String) -> String { "\(self.prefix).manager.\(Self.nodeToken(node)).heartbeat" }
    /// `{p}.>`: every subject of the contract (the JetStream stream's subject filter).
    public var all: String { "\(self.prefix).>" }

    /// What a contract subject carries, for the consumer side.
    public enum Kind: Sendable, Hashable {
        /// `{p}.agent.{id}.{status|connected|disconnected|registered|removed}`.
        case agentEvent(agentToken: String, channel: String)
        /// `{p}.security.agent_events`.
        case batch
        /// `{p}.manager.{node}.heartbeat`.
        case heartbeat(nodeToken: String)
        /// `{p}.security.anomaly` (`agentToken` nil) or `{p}.agent.{id}.anomaly`.
        case anomaly(agentToken: String?)
        /// `{p}.agent.{id}.flapping`.
        case flapping(agentToken: String)
    }

    /// Classifies a subject under this prefix, or `nil` if it is not a contract subject.
    public func classify(_ subject: String) -> Kind? {
        guard subject.hasPrefix(self.prefix + ".") else { return nil }
        let rest = subject.dropFirst(self.prefix.count + 1).split(separator: ".", omittingEmptySubsequences: false)
        if rest.count == 2, rest[0] == "security", rest[1] == "agent_events" { return .batch }
        if rest.count == 2, rest[0] == "security", rest[1] == "anomaly" { return .anomaly(agentToken: nil) }
        if rest.count == 3, rest[0] == "agent", !rest[1].isEmpty, rest[2] == "anomaly" {
            return .anomaly(agentToken: String(rest[1]))
        }
        if rest.count == 3, rest[0] == "agent", !rest[1].isEmpty, rest[2] == "flapping" {
            return .flapping(agentToken: String(rest[1]))
        }
        if rest.count == 3, rest[0] == "manager", rest[2] == "heartbeat", !rest[1].isEmpty {
            return .heartbeat(nodeToken: String(rest[1]))
        }
        let channels: Set<Substring> = ["status", "connected", "disconnected", "registered", "removed"]
        if rest.count == 3, rest[0] == "agent", !rest[1].isEmpty, channels.contains(rest[2]) {
            return .agentEvent(agentToken: String(rest[1]), channel: String(rest[2]))
        }
        return nil
    }
}
