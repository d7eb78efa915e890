import WireContract

/// RFC 3339 UTC timestamps for events: WireContract's ``WireTimestamp`` does the calendar arithmetic;
/// this only adds the millisecond variant the event `timestamp` field uses.
public enum RFC3339 {
    /// `2024-05-28T12:15:00Z` for Unix epoch seconds (exactly ``WireTimestamp/string(unixSeconds:)``).
    public static func format(epochSeconds: Int64) -> String {
        WireTimestamp.string(unixSeconds: epochSeconds)
    }

    /// `2024-05-28T12:15:00.123Z` for Unix epoch milliseconds (floored, also before 1970).
    public static func format(epochMilliseconds: Int64) -> String {
        let seconds = epochMilliseconds >= 0 ? epochMilliseconds / 1000 : (epochMilliseconds - 999) / 1000
        let millis = Int(epochMilliseconds - seconds * 1000)
        let whole = WireTimestamp.string(unixSeconds: seconds)
        let digits = String(millis)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
