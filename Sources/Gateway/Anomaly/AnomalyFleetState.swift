import WireContract

/// The fleet-wide part of the anomaly detector's memory: small, persisted as one `meta` entry
/// (``AnomalyDetector/fleetKey``) only in the cycles that change it.
struct AnomalyFleetState: Sendable, Hashable {
    var seeded = false
    /// The newest transition time seen (database time): the end of every sliding window.
    var newestTransition: Int64?
    /// Cluster nodes whose mass disconnection was raised and has not fallen back below the threshold.
    var massLatched: Set<String> = []
    /// The latest keepalive seen and when (clock seconds) it last advanced.
    var latestKeepalive: Int64?
    var keepaliveAdvancedAt: Int64?
    var activeAgents = 0
    var silenceLatched = false

    var encoded: String {
        let object: [String: JSONValue] = [
            "seeded": .bool(self.seeded), "newestTransition": .optionalInt(self.newestTransition),
            "massLatched": .array(self.massLatched.sorted().map { .string($0) }),
            "latestKeepalive": .optionalInt(self.latestKeepalive),
            "keepaliveAdvancedAt": .optionalInt(self.keepaliveAdvancedAt),
            "activeAgents": .int(Int64(self.activeAgents)), "silenceLatched": .bool(self.silenceLatched),
        ]
        // Strings, integers, booleans and null only: serialization cannot fail.
        return String(decoding: (try? CanonicalJSON.serialize(.object(object))) ?? [], as: UTF8.self)
    }

    init() {}

    init?(encoded text: String) {
        guard let object = try? JSONParser().parse(Array(text.utf8)).objectValue,
            let latched = object["massLatched"]?.arrayValue, object["activeAgents"]?.intValue != nil
        else { return nil }
        self.seeded = object["seeded"] == .bool(true)
        self.newestTransition = object["newestTransition"]?.intValue
        self.massLatched = Set(latched.compactMap(\.stringValue))
        self.latestKeepalive = object["latestKeepalive"]?.intValue
        self.keepaliveAdvancedAt = object["keepaliveAdvancedAt"]?.intValue
        self.activeAgents = Int(object["activeAgents"]?.intValue ?? 0)
        self.silenceLatched = object["silenceLatched"] == .bool(true)
    }
}

/// Ids and names of removed agents, oldest first (at most ``AnomalyDetector/retiredLimit``); current
/// agents are in the snapshot, so only these need keeping. Persisted when a removal changes them.
struct RetiredAgents: Sendable, Hashable {
    var ids: [Int] = []
    var names: [String] = []

    var encoded: String {
        let object: [String: JSONValue] = [
            "ids": .array(self.ids.map { .int(Int64($0)) }), "names": .array(self.names.map { .string($0) }),
        ]
        return String(decoding: (try? CanonicalJSON.serialize(.object(object))) ?? [], as: UTF8.self)
    }

    init() {}

    init?(encoded text: String) {
        guard let object = try? JSONParser().parse(Array(text.utf8)).objectValue,
            let ids = object["ids"]?.arrayValue, let names = object["names"]?.arrayValue
        else { return nil }
        self.ids = ids.compactMap { $0.intValue.map { Int($0) } }
        self.names = names.compactMap(\.stringValue)
    }
}
