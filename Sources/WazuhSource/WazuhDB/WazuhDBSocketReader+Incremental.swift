import Foundation

/// Incremental reads: ask wazuh-db only for the rows whose status moved since the previous read,
/// merge them into it, and prove the merge complete by wazuh-db's own count of agents per status.
///
/// Every status change wazuh-db makes stamps the row with its own clock: a disconnection (stopped,
/// keepalive timeout, manager restart) sets `disconnection_time`, a registration (or
/// re-registration under the same id) `date_add`, a start-up makes the agent pending, and a
/// keepalive that makes it active sets `last_keepalive`. One read asks, in order:
/// 1. when due (every `censusInterval`, 5 s by default), the census: agents per `connection_status`,
///    and the newest time in the table (a lower bound of wazuh-db's clock at this read, the `since`
///    of the reads until the next census, less ``changeMargin``);
/// 2. the rows disconnected or registered since `since`, every pending row, and the rows the
///    previous read saw pending (so pending → active is seen);
/// 3. only when the merged counts per status still differ from the census, and the total agrees:
///    the active rows with a keepalive since `since` (an agent that went active without being seen
///    pending: disconnected → active on a keepalive).
/// Every transition out of a status is a transition into another, so once the merged counts per
/// status equal the census no transition was missed; if they still differ (a removal always makes
/// the total differ), the caller sweeps. Keepalives that change no status are not read: between
/// sweeps an agent's `last_keepalive` is the one seen at its last transition (what events carry).
///
/// Why the census also sums ids and id × `status_code` per status. Every way into `disconnected`
/// stamps `disconnection_time` and every way into `pending` is read by its status, so the only
/// transitions the rows of step 2 can miss end in `active` (or `never_connected`, a registration,
/// read by `date_add`); those change the counts, which step 3 reconciles. Two things move no time
/// and no count: a clock stepped backwards (wazuh-db stamps a disconnection before `since`, and
/// another agent's unseen reconnection balances the counts) and a `status_code` changing alone
/// (version errors 1 and 2, with no connection change). The id sums catch the first (the agents
/// in a status are other agents, not just as many), the id × code sums the second; either
/// disagreeing makes the caller sweep at once, so neither waits for the periodic sweep. What is
/// left for the periodic sweep: a name, IP, node or group changing alone (no event is made of them).
///
/// Why the census is not asked at every read. wazuh-db's `agent` table has indexes on name, ip and
/// group_hash only, so each statement about status or times is a scan of the table, and the census
/// (grouping, sums) costs wazuh-db about three times the changed-rows scan. Every transition a
/// freshness goal is about stamps a time or is pending (disconnections, registrations, start-ups,
/// pending → active), so step 2 alone sees them at every read; the census, every `censusInterval`,
/// bounds how late the unstamped rest (a removal, a `status_code` alone, a clock stepped back,
/// disconnected → active on a keepalive) is seen. One read costs one scan; one in `censusInterval /
/// poll` costs two or three.
extension WazuhDBSocketReader {
    /// Seconds subtracted from the newest time seen before asking for changes (writes whose time
    /// was taken a moment before an earlier write landed, clocks a little apart).
    static let changeMargin: Int64 = 5
    /// Times further than this past the reader's own clock are ignored as bounds (a bogus row must
    /// not hide every later change).
    static let futureTolerance: Int64 = 86_400

    /// Whether the agent table has what incremental reads need (Wazuh before 4.3 has no
    /// `disconnection_time`: then every read is a sweep).
    static func supportsIncrementalReads(_ columns: [WazuhDBQuery.Column]) -> Bool {
        columns.contains(.lastKeepalive) && columns.contains(.disconnectionTime)
    }

    /// The newest keepalive, disconnection or registration time in `snapshot`, ignoring the future.
    static func newestTime(in snapshot: AgentSnapshot, now: Int64 = Int64(Date().timeIntervalSince1970)) -> Int64 {
        let ceiling = now + futureTolerance
        var newest: Int64 = 0
        for entry in snapshot.entries {
            if entry.lastKeepalive <= ceiling { newest = max(newest, entry.lastKeepalive) }
            if entry.disconnectionTime <= ceiling { newest = max(newest, entry.disconnectionTime) }
            if entry.dateAdd <= ceiling { newest = max(newest, entry.dateAdd) }
        }
        return newest
    }

    /// The changed rows merged into `previous`, and, when `census`, wazuh-db's census first; `nil`
    /// when the census shows the merge incomplete (the caller sweeps). Returns the newest time of
    /// the census with the snapshot (`nil` without a census: `since` stays as it was).
    func readChanges(
        columns: [WazuhDBQuery.Column], since: Int64, into previous: AgentSnapshot, census counting: Bool,
        state: inout State
    ) throws(WazuhSourceError) -> (snapshot: AgentSnapshot, newest: Int64?)? {
        let census = counting ? try agentCensus(statusCodes: columns.contains(.statusCode)) : nil
        let pending = previous.entries.lazy.filter { $0.status == AgentSnapshot.rawStatus(.pending) }.map(\.id)
        var changed: [WazuhDBRows.Agent] = []
        try readPages(
            state: &state,
            query: { .changedAgents(columns: columns, since: since, ids: Array(pending), after: $0, limit: $1) },
            each: { changed.append($0) })
        var merged = merge(changed, into: previous)
        guard let census else { return (merged, nil) }
        var tally = Self.census(of: merged)
        if !Self.sameMembers(tally, census.statuses), merged.count == census.total {
            var activated: [WazuhDBRows.Agent] = []
            try readPages(
                state: &state, query: { .activeAgents(columns: columns, since: since, after: $0, limit: $1) },
                each: { activated.append($0) })
            merged = merge(activated, into: merged)
            tally = Self.census(of: merged)
        }
        guard Self.sameMembers(tally, census.statuses), census.statusCodes ? tally == census.statuses : true else {
            logger.debug(
                "the agent census differs after an incremental read; sweeping",
                metadata: ["wazuh.agents": "\(census.total)", "wazuh.merged_agents": "\(merged.count)"])
            return nil
        }
        return (merged, census.newest)
    }

    /// What the census says of the agents in one status.
    struct StatusTally: Equatable {
        var agents = 0
        /// Sum of their ids.
        var ids: Int64 = 0
        /// Sum of id × `status_code` (0 when the column is missing).
        var codes: Int64 = 0
    }

    /// Whether the same agents are in each status (counts and id sums), whatever their codes.
    static func sameMembers(_ mine: [UInt8: StatusTally], _ theirs: [UInt8: StatusTally]) -> Bool {
        guard mine.count == theirs.count else { return false }
        return mine.allSatisfy { status, tally in
            theirs[status].map { $0.agents == tally.agents && $0.ids == tally.ids } ?? false
        }
    }

    /// The census of `snapshot`, keyed as wazuh-db's census is.
    static func census(of snapshot: AgentSnapshot) -> [UInt8: StatusTally] {
        var tallies: [UInt8: StatusTally] = [:]
        for entry in snapshot.entries {
            let code = entry.flags & AgentSnapshot.Entry.hasStatusCode != 0 ? Int64(entry.statusCode) : 0
            tallies[entry.status, default: StatusTally()].agents += 1
            tallies[entry.status, default: StatusTally()].ids &+= Int64(entry.id)
            tallies[entry.status, default: StatusTally()].codes &+= Int64(entry.id) &* code
        }
        return tallies
    }

    /// `previous` with the rows of `changed` (ascending ids) replacing or joining its agents.
    func merge(_ changed: [WazuhDBRows.Agent], into previous: AgentSnapshot) -> AgentSnapshot {
        guard !changed.isEmpty else { return previous }
        var builder = AgentSnapshot.Builder(capacity: previous.count + changed.count, sharingTablesOf: previous)
        let entries = previous.entries
        var cursor = 0
        for agent in changed {
            let start = cursor
            while cursor < entries.count, Int(entries[cursor].id) < agent.id { cursor += 1 }
            builder.appendCopies(of: previous, start..<cursor)
            if cursor < entries.count, Int(entries[cursor].id) == agent.id { cursor += 1 }
            append(agent, to: &builder)
        }
        builder.appendCopies(of: previous, cursor..<entries.count)
        return builder.finish()
    }

    /// wazuh-db's census of agents per status (agent 000 excluded), and the newest time in the table.
    private func agentCensus(statusCodes: Bool) throws(WazuhSourceError) -> (
        statuses: [UInt8: StatusTally], total: Int, newest: Int64, statusCodes: Bool
    ) {
        let ceiling = Int64(Date().timeIntervalSince1970) + Self.futureTolerance
        let json: [UInt8]
        switch try client.send(.agentCensus(ceiling: ceiling, statusCodes: statusCodes)) {
        case .ok(let body), .due(let body):
            json = body
        case .err(let text):
            throw failure(.wazuhDBError, "wazuh-db refused the agent census: \(text)")
        }
        var statuses: [UInt8: StatusTally] = [:]
        var total = 0
        var newest: Int64 = 0
        for row in try WazuhDBRows.objects(json) {
            guard let agents = WazuhDBRows.integer(row["agents"]), agents >= 0,
                let ids = WazuhDBRows.integer(row["ids"])
            else {
                throw failure(.malformedReply, "a row of wazuh-db's agent census has no count or id sum")
            }
            let status = AgentSnapshot.rawStatus(ConnectionStatus(databaseValue: row["status"] as? String))
            statuses[status, default: StatusTally()].agents += Int(agents)
            statuses[status, default: StatusTally()].ids &+= ids
            statuses[status, default: StatusTally()].codes &+= WazuhDBRows.integer(row["codes"]) ?? 0
            total += Int(agents)
            newest = max(newest, WazuhDBRows.integer(row["newest"]) ?? 0)
        }
        return (statuses, total, newest, statusCodes)
    }
}
