import Foundation

/// One agent's net change between two commits of the simulator, as its ground-truth log records it.
///
/// Written only after `COMMIT` returned, so every line is a transition an outside reader of
/// global.db could have seen. Statuses use the wire names (`Active`, `Disconnected`, …; `Unknown`
/// for an agent that does not exist). The first commit records every agent as `initial`.
public struct CommittedTransition: Sendable, Hashable, Codable {
    /// What happened to the agent's row.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The agent as the first commit left it (`previous` is `Unknown`).
        case initial
        case statusChange = "status_change"
        case registered
        case removed
    }

    public var kind: Kind
    public var agentID: Int
    public var previous: String
    public var current: String
    /// The agent's `date_add` (tells apart two agents that reused an id).
    public var dateAdd: Int64
    /// The database time the gateway derives the event id from (ChangeDetector's rules).
    public var databaseTime: Int64
    /// The simulator's commit counter (1 = the initial fleet).
    public var commit: Int
    /// Wall clock (Unix ms) right after the COMMIT returned.
    public var committedAtMilliseconds: Int64
    /// Wall clock (Unix ms) when the simulator wrote the agent's current status in its open transaction
    /// (what wazuh-db's socket shows at once); absent for removals and in older logs.
    public var writtenAtMilliseconds: Int64?

    public init(
        kind: Kind, agentID: Int, previous: String, current: String, dateAdd: Int64, databaseTime: Int64,
        commit: Int, committedAtMilliseconds: Int64, writtenAtMilliseconds: Int64? = nil
    ) {
        self.writtenAtMilliseconds = writtenAtMilliseconds
        self.kind = kind
        self.agentID = agentID
        self.previous = previous
        self.current = current
        self.dateAdd = dateAdd
        self.databaseTime = databaseTime
        self.commit = commit
        self.committedAtMilliseconds = committedAtMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case agentID = "agent_id"
        case previous
        case current
        case dateAdd = "date_add"
        case databaseTime = "db_time"
        case commit
        case committedAtMilliseconds = "committed_at_ms"
        case writtenAtMilliseconds = "written_at_ms"
    }
}

/// The append-only JSON-lines file of ``CommittedTransition``s a simulator writes after each COMMIT.
public final class GroundTruthLog {
    private let handle: FileHandle
    private let encoder = JSONEncoder()

    /// Creates (truncates) the file at `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        encoder.outputFormatting = [.sortedKeys]
    }

    deinit { try? handle.close() }

    /// Appends `transitions`, one JSON object per line, in one write.
    public func append(_ transitions: [CommittedTransition]) throws {
        guard !transitions.isEmpty else { return }
        var data = Data()
        for transition in transitions {
            data.append(try encoder.encode(transition))
            data.append(0x0A)
        }
        try handle.write(contentsOf: data)
    }

    /// Every transition in the file at `path`, in commit order. A torn last line (no newline) is ignored.
    public static func read(path: String) throws -> [CommittedTransition] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        var result: [CommittedTransition] = []
        var lines = data.split(separator: 0x0A, omittingEmptySubsequences: true)
        if data.last != 0x0A, !lines.isEmpty { lines.removeLast() }
        for line in lines {
            result.append(try decoder.decode(CommittedTransition.self, from: Data(line)))
        }
        return result
    }
}

extension WazuhSimulator {
    /// The net transitions from the last committed state to the simulator's current one.
    func committedTransitions(since committed: [Int: SimulatedAgent], commit: Int, at milliseconds: Int64)
        -> [CommittedTransition]
    {
        var result: [CommittedTransition] = []
        let unknown = "Unknown"
        for id in Set(committed.keys).union(agents.keys).sorted() {
            let before = committed[id]
            let after = agents[id]
            func record(
                _ kind: CommittedTransition.Kind, _ previous: String, _ agent: SimulatedAgent, _ current: String
            ) {
                result.append(
                    CommittedTransition(
                        kind: kind, agentID: id, previous: previous, current: current, dateAdd: agent.dateAdd,
                        databaseTime: Self.databaseTime(of: agent, removed: kind == .removed), commit: commit,
                        committedAtMilliseconds: milliseconds,
                        writtenAtMilliseconds: kind == .removed ? nil : agent.statusWrittenAtMilliseconds))
            }
            switch (before, after) {
            case (nil, let after?):
                record(commit == 1 ? .initial : .registered, unknown, after, Self.wireStatus(after))
            case (let before?, nil):
                record(.removed, Self.wireStatus(before), before, unknown)
            case (let before?, let after?) where before.dateAdd != after.dateAdd:
                record(.removed, Self.wireStatus(before), before, unknown)
                record(.registered, unknown, after, Self.wireStatus(after))
            case (let before?, let after?) where before.status != after.status:
                record(.statusChange, Self.wireStatus(before), after, Self.wireStatus(after))
            default:
                break
            }
        }
        return result
    }

    /// The wire name of the agent's `connection_status` (as WazuhSource's `ConnectionStatus` maps it;
    /// spelled out here so the simulator does not depend on the reader it is used to test).
    static func wireStatus(_ agent: SimulatedAgent) -> String {
        switch agent.status {
        case "active": return "Active"
        case "disconnected": return "Disconnected"
        case "never_connected": return "NeverConnected"
        case "pending": return "Pending"
        default: return "Unknown"
        }
    }

    /// The time ChangeDetector derives for `agent` having entered its status (or for its removal).
    static func databaseTime(of agent: SimulatedAgent, removed: Bool) -> Int64 {
        switch agent.status {
        case "disconnected":
            return agent.disconnectionTime > 0 ? agent.disconnectionTime : agent.lastKeepalive ?? agent.dateAdd
        case "active", "pending":
            return agent.lastKeepalive ?? agent.dateAdd
        default:
            return removed ? agent.lastKeepalive ?? agent.dateAdd : agent.dateAdd
        }
    }
}
