import Testing

@testable import WazuhAPISource

struct WazuhAPITimestampTests {
    @Test func parsesTheFormsTheAPIUses() {
        #expect(WazuhAPITimestamp.epochSeconds("1970-01-01T00:00:00Z") == 0)
        #expect(WazuhAPITimestamp.epochSeconds("2020-10-26T09:52:01Z") == 1_603_705_921)
        #expect(WazuhAPITimestamp.epochSeconds("2020-10-26T11:52:01+02:00") == 1_603_705_921)
        #expect(WazuhAPITimestamp.epochSeconds("2020-10-26 09:52:01") == 1_603_705_921)
        #expect(WazuhAPITimestamp.epochSeconds("2020-10-26T09:52:01.250Z") == 1_603_705_921)
        #expect(WazuhAPITimestamp.epochSeconds("1603705921") == 1_603_705_921)
        #expect(WazuhAPITimestamp.epochSeconds("2000-02-29T00:00:00Z") == 951_782_400)
    }

    @Test func refusesAnythingElse() {
        #expect(WazuhAPITimestamp.epochSeconds("") == nil)
        #expect(WazuhAPITimestamp.epochSeconds("2020-13-26T09:52:01Z") == nil)
        #expect(WazuhAPITimestamp.epochSeconds("2020-10-26T09:52:01Q") == nil)
        #expect(WazuhAPITimestamp.epochSeconds("yesterday") == nil)
    }
}
