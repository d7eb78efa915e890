import Timekeeping
import WireContract

/// RFC 3339 UTC timestamps with milliseconds, `2026-11-29T06:15:04.123Z`, as log lines use them
/// (``WireTimestamp``'s format, at the wall-clock now).
enum LogTimestamp {
    static func now() -> String {
        WireTimestamp.string(epochMilliseconds: SystemClock.epochMilliseconds())
    }

    static func format(seconds: Int, milliseconds: Int) -> String {
        WireTimestamp.string(epochMilliseconds: Int64(seconds) * 1000 + Int64(milliseconds))
    }
}
