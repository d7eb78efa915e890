import Testing
import WazuhSource

struct AgentSnapshotNodeSizesTests {
    @Test func onePassAgreesWithTheSeparateScans() {
        let records = AgentSnapshotTests.sampleRecords()
        let negativeOnly = [records[3]]
        let withoutKeepalive = [records[2]]
        for snapshot in [records, negativeOnly, withoutKeepalive, []].map({ AgentSnapshot(records: $0) }) {
            let sizes = snapshot.nodeSizes
            #expect(sizes.agentsPerNode == snapshot.agentsPerNode)
            #expect(sizes.latestKeepalive == snapshot.latestKeepalive)
        }
        let sample = AgentSnapshot(records: records).nodeSizes
        #expect(sample.agentsPerNode == ["master": 2, "worker-1": 1, nil: 1])
        #expect(sample.latestKeepalive == 1_700_000_100)
        #expect(AgentSnapshot(records: negativeOnly).nodeSizes.latestKeepalive == -5)
        #expect(AgentSnapshot(records: withoutKeepalive).nodeSizes.latestKeepalive == nil)
    }
}
