/// RFC 3339 UTC timestamps as the contract writes them: `2024-05-28T12:00:00Z` (whole seconds, `Z`).
///
/// Computed arithmetically (proleptic Gregorian calendar), independent of locale and time zone settings.
public enum WireTimestamp {
    /// The timestamp of `unixSeconds` seconds since 1970-01-01T00:00:00Z.
    public static func string(unixSeconds: Int64) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secondOfDay = unixSeconds - days * 86_400
        // Days to civil date (Howard Hinnant's algorithm).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Self.pad(year, 4) + "-" + Self.pad(month, 2) + "-" + Self.pad(day, 2) + "T"
            + Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay % 3600 / 60, 2) + ":"
            + Self.pad(secondOfDay % 60, 2) + "Z"
    }

    /// `2024-05-28T12:15:00.123Z` for `epochMilliseconds` since 1970 (floored, also before 1970): the
    /// event `timestamp` field, log lines and operator output.
    public static func string(epochMilliseconds: Int64) -> String {
        let seconds = epochMilliseconds >= 0 ? epochMilliseconds / 1000 : (epochMilliseconds - 999) / 1000
        let whole = Self.string(unixSeconds: seconds)
        return whole.dropLast() + "." + Self.pad(epochMilliseconds - seconds * 1000, 3) + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value.magnitude)
        let padded = String(repeating: "0", count: max(0, width - digits.count)) + digits
        return value < 0 ? "-" + padded : padded
    }
}
