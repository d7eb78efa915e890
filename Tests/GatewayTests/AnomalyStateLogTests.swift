import Outbox
import Testing

@testable import Gateway

/// The anomaly state log: per-cycle deltas, compaction, and restoring exactly what was recorded.
struct AnomalyStateLogTests {
    /// Applies `update` to `entries` the way the outbox's `meta` table does.
    func apply(_ update: MetaUpdate, to entries: inout [String: String]) {
        for key in update.removed { entries[key] = nil }
        for (key, value) in update.values { entries[key] = value }
    }

    /// The lines are written straight into one buffer (``StateLineWriter``) in the exact text that older
    /// gateways journaled and that restoring parses: numbers as `String(_:)` writes them, `-` for none,
    /// escaped names, `%` for an empty text.
    @Test func linesKeepTheJournaledTextByteForByte() {
        var track = AnomalyAgentTrack(name: "web 01%", dateAdd: -1_700_000_000, node: "node01", lastSeen: 0)
        track.transitions = [Int64.min, -5, 0, 1_716_897_300]
        track.flappingLatched = true
        track.disconnectedAt = Int64.max
        track.groups = ""
        #expect(
            track.line
                == "-1700000000 0 1 9223372036854775807 - - -9223372036854775808,-5,0,1716897300 node01 web%2001%25 %")
        var plain = AnomalyAgentTrack(name: "web-02", dateAdd: 7, node: "n\r", lastSeen: 42)
        plain.pendingStopAt = 40
        plain.lastStopAt = 39
        plain.groups = "default,site a"
        #expect(plain.line == "7 42 0 - 40 39 - n%0D web-02 default,site%20a")
        #expect(AnomalyAgentTrack(line: Substring(track.line)) == track)
        #expect(AnomalyAgentTrack(line: Substring(plain.line)) == plain)
        let window = AgentRateLimiter.Window(
            start: 1_716_897_280, agentName: "db\n", dateAdd: 3, transitions: 21, condensed: 11, firstStatus: .active,
            lastStatus: .disconnected)
        #expect(window.line == "1716897280 3 21 11 Active Disconnected db%0A")
        var log = AnomalyStateLog()
        let update = log.record(
            tracks: [(12, plain), (3, nil)], windows: [(12, window), (4, nil)], current: ([12: plain], [12: window]))
        #expect(update.values.values.first == "A12 \(plain.line)\nA3\nR12 \(window.line)\nR4")
    }

    @Test func deltasAndCompactionsRestoreExactlyTheLatestTracksAndWindows() {
        var log = AnomalyStateLog()
        var entries: [String: String] = [:]
        // The detector's tracks and the limiter's windows, as the journal hands them to every record.
        var tracksNow: [Int: AnomalyAgentTrack] = [:]
        var windowsNow: [Int: AgentRateLimiter.Window] = [:]
        for cycle in 0..<(AnomalyStateLog.compactAfter * 2 + 10) {
            let agent = cycle % 37
            var track = AnomalyAgentTrack(
                name: cycle % 2 == 0 ? "web 0\(agent)%\n" : "web-0\(agent)", dateAdd: 1_700_000_000, node: "node01",
                lastSeen: Int64(cycle))
            track.transitions = [Int64(cycle - 1), Int64(cycle)]
            track.disconnectedAt = cycle % 3 == 0 ? Int64(cycle) : nil
            let window = AgentRateLimiter.Window(
                start: Int64(cycle / 60 * 60), agentName: "", dateAdd: 5, transitions: cycle % 7, condensed: cycle % 3,
                firstStatus: .active, lastStatus: .disconnected)
            // Every fifth cycle forgets an agent instead.
            let forgotten = cycle % 5 == 4 ? (cycle + 11) % 37 : nil
            var tracks: [(agentID: Int, track: AnomalyAgentTrack?)] = [(agent, track)]
            if let forgotten, forgotten != agent { tracks.append((forgotten, nil)) }
            let windows = [(agentID: agent, window: cycle % 4 == 0 ? nil : window)]
            for (agentID, track) in tracks { tracksNow[agentID] = track }
            for (agentID, window) in windows { windowsNow[agentID] = window }
            apply(log.record(tracks: tracks, windows: windows, current: (tracksNow, windowsNow)), to: &entries)
        }
        // Compacted twice: at most one full entry and fewer deltas than the compaction threshold remain.
        #expect(entries[AnomalyStateLog.fullKey] != nil)
        #expect(entries.keys.filter { $0.hasPrefix(AnomalyStateLog.deltaPrefix) }.count < AnomalyStateLog.compactAfter)
        let restored = AnomalyStateLog(restoring: entries)
        #expect(restored.tracks == tracksNow)
        #expect(restored.windows == windowsNow)
        #expect(restored.tracks.values.contains { $0.name.contains("%\n") })
        // Deltas written after a restore continue the numbering, so they sort after the older ones.
        var continued = restored
        tracksNow[1] = nil
        let key = continued.record(tracks: [(1, nil)], windows: [], current: (tracksNow, windowsNow)).values.keys.first
        #expect(key.map { $0 > entries.keys.filter { $0.hasPrefix(AnomalyStateLog.deltaPrefix) }.max() ?? "" } == true)
    }

    /// Restart storms change every agent each cycle, so each delta is nearly a full entry: the log must
    /// compact by size, not only by count, or `meta` (and the journal's in-memory copy of it) holds up
    /// to ``AnomalyStateLog/compactAfter`` copies of the fleet — 22 MiB in the 5 000-agent outage soak.
    @Test func stormSizedDeltasAreCompactedBySizeAndStillRestoreExactly() throws {
        var log = AnomalyStateLog()
        var entries: [String: String] = [:]
        var largestLog = 0
        var tracksNow: [Int: AnomalyAgentTrack] = [:]
        for cycle in 0..<300 {
            var tracks: [(agentID: Int, track: AnomalyAgentTrack?)] = []
            for agent in 1...2_000 {
                var track = AnomalyAgentTrack(
                    name: "agent-\(agent)", dateAdd: 1_700_000_000, node: "node01", lastSeen: Int64(cycle))
                track.transitions = [Int64(cycle)]
                tracks.append((agent, track))
            }
            for (agentID, track) in tracks { tracksNow[agentID] = track }
            apply(log.record(tracks: tracks, windows: [], current: (tracksNow, [:])), to: &entries)
            largestLog = max(largestLog, entries.values.reduce(0) { $0 + $1.utf8.count })
        }
        let fullBytes = try #require(entries[AnomalyStateLog.fullKey]).utf8.count
        #expect(fullBytes > AnomalyStateLog.minimumDeltaBytes)
        // The full entry and deltas up to twice its size (the next delta past that compacts instead).
        #expect(
            largestLog <= fullBytes * (AnomalyStateLog.deltaBudgetFactor + 1),
            "log grew to \(largestLog) bytes, one full entry is \(fullBytes)")
        let restored = AnomalyStateLog(restoring: entries)
        #expect(restored.tracks == tracksNow)
        #expect(restored.deltaBytes == log.deltaBytes && restored.fullBytes == log.fullBytes)
    }
}
