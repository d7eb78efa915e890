import Testing

@testable import Gateway

struct ConfigurationUnitsTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("5s", .seconds(5)), ("10m", .seconds(600)),
        ("2h", .seconds(7200)), ("7d", .seconds(604_800)), (" 0s ", .zero),
    ])
    func durationsWithUnitsParse(text: String, expected: Duration) {
        #expect(ConfigurationUnits.parseDuration(text) == expected)
    }

    @Test(arguments: ["5", "", "s", "5 s", "-5s", "1.5s", "5sec", "5S", "99999999999999999999d", "10y"])
    func malformedDurationsAreRefused(text: String) {
        #expect(ConfigurationUnits.parseDuration(text) == nil)
    }

    @Test func durationsPrintInTheLargestExactUnit() {
        #expect(ConfigurationUnits.formatDuration(.milliseconds(100)) == "100ms")
        #expect(ConfigurationUnits.formatDuration(.seconds(90)) == "90s")
        #expect(ConfigurationUnits.formatDuration(.seconds(600)) == "10m")
        #expect(ConfigurationUnits.formatDuration(.seconds(7 * 86_400)) == "7d")
        #expect(ConfigurationUnits.formatDuration(.milliseconds(1500)) == "1500ms")
    }

    @Test(arguments: [
        ("512MiB", Int64(512) << 20), ("1GiB", Int64(1) << 30), ("10MB", 10_000_000), ("4096B", 4096),
        ("1048576", 1_048_576), ("2 KiB", 2048), ("1TiB", Int64(1) << 40),
    ])
    func sizesParse(text: String, expected: Int64) {
        #expect(ConfigurationUnits.parseByteSize(text) == expected)
    }

    @Test(arguments: ["", "GiB", "1.5GiB", "-1", "1 gigabyte", "1gib", "99999999999TiB"])
    func malformedSizesAreRefused(text: String) {
        #expect(ConfigurationUnits.parseByteSize(text) == nil)
    }

    @Test func sizesPrintInTheLargestExactBinaryUnit() {
        #expect(ConfigurationUnits.formatByteSize(1 << 30) == "1GiB")
        #expect(ConfigurationUnits.formatByteSize(3 << 20) == "3MiB")
        #expect(ConfigurationUnits.formatByteSize(1000) == "1000B")
        #expect(ConfigurationUnits.formatByteSize(0) == "0B")
    }

    @Test func durationRoundTripsThroughItsPrintedForm() {
        for milliseconds in [1, 999, 1000, 59_000, 60_000, 3_600_000, 86_400_000, 90_061_001] {
            let duration = Duration.milliseconds(milliseconds)
            #expect(ConfigurationUnits.parseDuration(ConfigurationUnits.formatDuration(duration)) == duration)
        }
    }
}
