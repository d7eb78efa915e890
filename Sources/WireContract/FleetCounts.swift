/// How many agents are in each status; part of a batch's `summary` and of a heartbeat's `fleet`.
public struct FleetCounts: Sendable, Hashable {
    public var totalAgents: Int
    public var activeAgents: Int
    public var disconnectedAgents: Int
    public var pendingAgents: Int
    public var neverConnectedAgents: Int

    public init(
        totalAgents: Int, activeAgents: Int, disconnectedAgents: Int, pendingAgents: Int, neverConnectedAgents: Int
    ) {
        self.totalAgents = totalAgents
        self.activeAgents = activeAgents
        self.disconnectedAgents = disconnectedAgents
        self.pendingAgents = pendingAgents
        self.neverConnectedAgents = neverConnectedAgents
    }

    var jsonMembers: [String: JSONValue] {
        [
            "total_agents": .int(Int64(self.totalAgents)),
            "active_agents": .int(Int64(self.activeAgents)),
            "disconnected_agents": .int(Int64(self.disconnectedAgents)),
            "pending_agents": .int(Int64(self.pendingAgents)),
            "never_connected_agents": .int(Int64(self.neverConnectedAgents)),
        ]
    }

    init(fields: ContractFields) throws(WireError) {
        self.init(
            totalAgents: Int(try fields.int("total_agents")),
            activeAgents: Int(try fields.int("active_agents")),
            disconnectedAgents: Int(try fields.int("disconnected_agents")),
            pendingAgents: Int(try fields.int("pending_agents")),
            neverConnectedAgents: Int(try fields.int("never_connected_agents"))
        )
    }
}

/// A batch's `summary`: the fleet after the cycle and how many changes the cycle detected.
public struct BatchSummary: Sendable, Hashable {
    public var fleet: FleetCounts
    /// Changes detected in the whole cycle (the same in every part of a split batch).
    public var changesDetected: Int

    public init(fleet: FleetCounts, changesDetected: Int) {
        self.fleet = fleet
        self.changesDetected = changesDetected
    }

    /// `{total_agents, active_agents, disconnected_agents, pending_agents, never_connected_agents,
    /// changes_detected}`.
    public var jsonObject: [String: JSONValue] {
        var members = self.fleet.jsonMembers
        members["changes_detected"] = .int(Int64(self.changesDetected))
        return members
    }

    public init(jsonObject object: [String: JSONValue]) throws(WireError) {
        let fields = ContractFields(object: object, what: "summary")
        self.init(fleet: try FleetCounts(fields: fields), changesDetected: Int(try fields.int("changes_detected")))
    }
}
