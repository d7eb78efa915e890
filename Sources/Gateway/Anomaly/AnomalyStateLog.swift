import Outbox

/// How the anomaly detector's per-agent tracks and the rate limiter's open windows are journaled: an
/// append-only log of per-cycle deltas in `meta`, compacted now and then, so a cycle writes ONE entry
/// holding only the agents it changed.
///
/// - `anomaly.full`: every track and window at the last compaction;
/// - `anomaly.delta.<n>` (`n` zero-padded, rising): one per journaled cycle that changed something;
/// each holds lines `A<id> <track line>` / `A<id>` (forgotten) and `R<id> <window line>` / `R<id>`
/// (closed). Restoring reads the full entry, then the deltas in order. After ``compactAfter`` deltas,
/// or once the deltas together would outgrow ``deltaBudgetFactor`` times the last full entry (a restart
/// storm changes every agent, so each of its deltas is nearly a full entry), the next cycle writes a new
/// full entry instead and removes the deltas: the cost is amortised over them, and the log — in `meta`
/// and in the journal's in-memory copy of it — stays within about three full entries.
///
/// The log keeps no copy of the state it journals: a compaction writes the detector's tracks and the
/// limiter's windows as they are (the same values every delta recorded), so a cycle costs the lines it
/// writes, not a second dictionary update per changed agent.
struct AnomalyStateLog: Sendable {
    static let fullKey = "anomaly.full"
    static let deltaPrefix = "anomaly.delta."
    /// Deltas kept before the next cycle compacts them.
    static let compactAfter = 256
    /// Delta bytes always allowed before compacting, however small the full entry.
    static let minimumDeltaBytes = 64 * 1024
    /// Delta bytes allowed before compacting, in full entries. A compaction rewrites every track, so it
    /// costs a full entry's bytes per `deltaBudgetFactor` full entries of deltas: at 1 the state log wrote
    /// as many bytes in compactions as in deltas (and compacting was a third of the detector's time in
    /// the security benchmark); at 2, half as many, for one more full entry of `meta` at most.
    static let deltaBudgetFactor = 2

    /// The tracks and windows restored from the journaled entries (``init(restoring:)``); not kept up to
    /// date by ``record(tracks:windows:current:)``.
    var tracks: [Int: AnomalyAgentTrack] = [:]
    var windows: [Int: AgentRateLimiter.Window] = [:]
    /// Delta keys written since the last compaction, oldest first.
    var deltaKeys: [String] = []
    var nextDelta: Int64 = 1
    /// UTF-8 bytes of the deltas since the last compaction, and of the last full entry.
    private(set) var deltaBytes = 0
    private(set) var fullBytes = 0

    static func deltaKey(_ number: Int64) -> String {
        let digits = String(number)
        return Self.deltaPrefix + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// The log as journaled in `entries` (other keys ignored; unreadable lines skipped).
    init(restoring entries: [String: String]) {
        if let full = entries[Self.fullKey] {
            self.apply(full)
            self.fullBytes = full.utf8.count
        }
        let deltas = entries.keys.filter { $0.hasPrefix(Self.deltaPrefix) }.sorted()
        for key in deltas {
            if let text = entries[key] {
                self.apply(text)
                self.deltaBytes += text.utf8.count
            }
            if let number = Int64(key.dropFirst(Self.deltaPrefix.count)) {
                self.nextDelta = max(self.nextDelta, number + 1)
            }
        }
        self.deltaKeys = deltas
    }

    init() {}

    private mutating func apply(_ text: String) {
        for line in text.split(separator: "\n") {
            guard let kind = line.first else { continue }
            let rest = line.dropFirst()
            let space = rest.firstIndex(of: " ")
            guard let agentID = Int(rest[..<(space ?? rest.endIndex)]) else { continue }
            let body = space.map { rest[rest.index(after: $0)...] }
            switch kind {
            case "A": self.tracks[agentID] = body.flatMap(AnomalyAgentTrack.init(line:))
            case "R": self.windows[agentID] = body.flatMap(AgentRateLimiter.Window.init(line:))
            default: continue
            }
        }
    }

    /// The `meta` changes that journal this cycle's changed tracks and windows. `current` holds every
    /// track and window after the cycle (the changed ones included, forgotten ones absent): a compaction
    /// writes it in full.
    mutating func record(
        tracks: [(agentID: Int, track: AnomalyAgentTrack?)],
        windows: [(agentID: Int, window: AgentRateLimiter.Window?)],
        current: (tracks: [Int: AnomalyAgentTrack], windows: [Int: AgentRateLimiter.Window])
    ) -> MetaUpdate {
        guard !tracks.isEmpty || !windows.isEmpty else { return MetaUpdate() }
        var writer = StateLineWriter(capacity: 96 * (tracks.count + windows.count))
        for (agentID, track) in tracks { Self.write(agentID, track, to: &writer) }
        for (agentID, window) in windows { Self.write(agentID, window, to: &writer) }
        let deltaBudget = max(Self.deltaBudgetFactor * self.fullBytes, Self.minimumDeltaBytes)
        if self.deltaKeys.count >= Self.compactAfter || self.deltaBytes + writer.count > deltaBudget {
            let removed = self.deltaKeys
            let full = Self.fullText(current.tracks, current.windows, capacity: self.fullBytes)
            self.deltaKeys = []
            self.deltaBytes = 0
            self.fullBytes = full.utf8.count
            return MetaUpdate(values: [Self.fullKey: full], removed: removed)
        }
        let key = Self.deltaKey(self.nextDelta)
        self.nextDelta += 1
        self.deltaKeys.append(key)
        self.deltaBytes += writer.count
        return MetaUpdate(values: [key: writer.string])
    }

    /// Every track and window, in agent order: the full entry.
    private static func fullText(
        _ tracks: [Int: AnomalyAgentTrack], _ windows: [Int: AgentRateLimiter.Window], capacity: Int
    ) -> String {
        var writer = StateLineWriter(capacity: max(capacity, 96 * (tracks.count + windows.count)))
        // Only the ids are sorted (sorting the pairs moved every track around: most of a compaction's time).
        for agentID in tracks.keys.sorted() { Self.write(agentID, tracks[agentID], to: &writer) }
        for agentID in windows.keys.sorted() { Self.write(agentID, windows[agentID], to: &writer) }
        return writer.string
    }

    /// `A<id> <track line>`, or `A<id>` for a forgotten track, on a line of its own.
    private static func write(_ agentID: Int, _ track: AnomalyAgentTrack?, to writer: inout StateLineWriter) {
        if !writer.isEmpty { writer.byte(0x0A) }
        writer.byte(0x41)
        writer.int(agentID)
        guard let track else { return }
        writer.space()
        track.write(to: &writer)
    }

    /// `R<id> <window line>`, or `R<id>` for a closed window, on a line of its own.
    private static func write(_ agentID: Int, _ window: AgentRateLimiter.Window?, to writer: inout StateLineWriter) {
        if !writer.isEmpty { writer.byte(0x0A) }
        writer.byte(0x52)
        writer.int(agentID)
        guard let window else { return }
        writer.space()
        window.write(to: &writer)
    }
}
