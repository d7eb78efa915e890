import Testing

@testable import WireContract

/// A batch written around its events' own canonical JSON is the very message the JSON tree gives.
struct BatchEncodingTests {
    static func batches(events: [AgentStatusEvent], maximumEvents: Int) -> [BatchStatusUpdate] {
        let summary = BatchSummary(
            fleet: FleetCounts(
                totalAgents: 10, activeAgents: 7, disconnectedAgents: 3, pendingAgents: 0, neverConnectedAgents: 0),
            changesDetected: events.count)
        return BatchStatusUpdate.split(
            batchID: BatchStatusUpdate.makeBatchID(time: 1_716_897_300, eventIDs: events.map(\.eventID)),
            managerNode: "node-\"ü\"😀", timestamp: "2024-05-28T12:00:00Z", events: events, summary: summary,
            maximumEvents: maximumEvents)
    }

    @Test(arguments: [1, 2, 7, 100])
    func writtenFromEventPayloadsEqualsTheTreeEncoding(maximumEvents: Int) throws {
        let key = try SampleEvents.signingKey()
        let events =
            [SampleEvents.quoted.signed(with: key)]
            + (1...6).map { SampleEvents.event(agent: $0, name: "nämé\u{1}\\").signed(with: key) }
        var offset = 0
        for part in Self.batches(events: events, maximumEvents: maximumEvents) {
            let payloads = events[offset..<(offset + part.events.count)].map { $0.canonicalJSON() }
            offset += part.events.count
            let written = part.signedCanonicalJSON(with: key, eventPayloads: payloads)
            #expect(written == part.signed(with: key).canonicalJSON())
            let parsed = try JSONParser().parse(written)
            #expect(key.verify(parsed.objectValue ?? [:]))
        }
        #expect(offset == events.count)
    }

    @Test func aBatchWithoutEventsIsWrittenLikeTheTree() throws {
        let key = try SampleEvents.signingKey()
        let batch = try #require(Self.batches(events: [], maximumEvents: 10).first)
        #expect(batch.signedCanonicalJSON(with: key, eventPayloads: []) == batch.signed(with: key).canonicalJSON())
    }
}
