import Foundation
import Gateway
import Timekeeping

/// The `subscribe` command's `--since` and `--durable` values, checked.
public enum SubscriberArguments {
    /// `--since`: an RFC 3339 time (`2026-12-04T21:00:00Z`, fractional seconds and offsets allowed) or a
    /// duration back from `now` (`10m`, `2h`, `90s`).
    public static func parseSince(_ text: String, now: Date = Date()) throws(OperatorCommandError) -> Date {
        for options: ISO8601DateFormatter.Options in [
            [.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime],
        ] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) { return date }
        }
        if let duration = ConfigurationUnits.parseDuration(text), duration > .zero {
            return now.addingTimeInterval(-duration.fractionalSeconds)
        }
        throw OperatorCommandError(
            .invalidArgument,
            "--since \(text.debugDescription) is neither an RFC 3339 time (2026-12-04T21:00:00Z) nor a duration like 10m"
        )
    }

    /// `--durable`: a consumer name is a subject token — letters, digits, `-` and `_`, at most 64.
    public static func checkDurableName(_ name: String) throws(OperatorCommandError) -> String {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-"
                || $0 == "_"
        }
        guard !name.isEmpty, name.count <= 64, allowed else {
            throw OperatorCommandError(
                .invalidArgument,
                "--durable \(name.debugDescription) must be 1 to 64 letters, digits, '-' or '_'")
        }
        return name
    }
}
