import WireContract

/// The event timestamps' older name: both forms are ``WireTimestamp``'s (the one RFC 3339 formatter).
/// Kept so existing callers compile; new code calls ``WireTimestamp`` directly.
public enum RFC3339 {
    /// `2024-05-28T12:15:00Z`: ``WireTimestamp/string(unixSeconds:)``.
    public static func format(epochSeconds: Int64) -> String {
        WireTimestamp.string(unixSeconds: epochSeconds)
    }

    /// `2024-05-28T12:15:00.123Z`: ``WireTimestamp/string(epochMilliseconds:)``.
    public static func format(epochMilliseconds: Int64) -> String {
        WireTimestamp.string(epochMilliseconds: epochMilliseconds)
    }
}
