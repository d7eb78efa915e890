/// RFC 3339 UTC timestamps without Foundation formatters (pure, thread-safe, deterministic).
public enum RFC3339 {
    /// `2024-05-28T12:15:00Z` for Unix epoch seconds.
    public static func format(epochSeconds: Int64) -> String {
        let (date, secondsOfDay) = civil(epochSeconds: epochSeconds)
        return date + "T" + time(secondsOfDay) + "Z"
    }

    /// `2024-05-28T12:15:00.123Z` for Unix epoch milliseconds.
    public static func format(epochMilliseconds: Int64) -> String {
        let seconds = epochMilliseconds >= 0 ? epochMilliseconds / 1000 : (epochMilliseconds - 999) / 1000
        let millis = Int(epochMilliseconds - seconds * 1000)
        let (date, secondsOfDay) = civil(epochSeconds: seconds)
        return date + "T" + time(secondsOfDay) + "." + pad(millis, 3) + "Z"
    }

    private static func civil(epochSeconds: Int64) -> (String, Int64) {
        var days = epochSeconds / 86_400
        var secondsOfDay = epochSeconds % 86_400
        if secondsOfDay < 0 {
            secondsOfDay += 86_400
            days -= 1
        }
        // Howard Hinnant's days-from-civil inverse.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (pad(Int(year), 4) + "-" + pad(Int(month), 2) + "-" + pad(Int(day), 2), secondsOfDay)
    }

    private static func time(_ secondsOfDay: Int64) -> String {
        let value = Int(secondsOfDay)
        return pad(value / 3600, 2) + ":" + pad(value / 60 % 60, 2) + ":" + pad(value % 60, 2)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
