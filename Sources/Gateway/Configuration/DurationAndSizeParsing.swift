import Timekeeping

/// Parses and prints the duration and size notations used in configuration files.
///
/// Durations are an unsigned integer followed by one unit: `ms`, `s`, `m`, `h` or `d`
/// (`500ms`, `5s`, `10m`, `2h`, `7d`). A bare number is refused: `poll_interval: 5` could mean
/// seconds or milliseconds, and guessing wrong silently changes behaviour by a factor of 1000.
///
/// Sizes are an unsigned integer with an optional unit: binary `KiB`, `MiB`, `GiB`, `TiB`, decimal
/// `KB`, `MB`, `GB`, `TB`, or `B`; a bare number is a count of bytes (`512MiB`, `1GiB`, `1048576`).
public enum ConfigurationUnits {
    private static let durationUnits: [(suffix: String, seconds: Int64?, milliseconds: Int64)] = [
        ("ms", nil, 1),
        ("s", 1, 1000),
        ("m", 60, 60_000),
        ("h", 3600, 3_600_000),
        ("d", 86_400, 86_400_000),
    ]

    private static let sizeUnits: [(suffix: String, factor: Int64)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
        ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
        ("B", 1),
    ]

    /// Parses `500ms`, `5s`, `10m`, `2h`, `7d`; nil for anything else (including a bare number).
    public static func parseDuration(_ text: String) -> Duration? {
        let trimmed = text.trimmingWhitespace()
        // Longest suffix first, so `ms` wins over `s` and `m`.
        for unit in self.durationUnits.sorted(by: { $0.suffix.count > $1.suffix.count })
        where trimmed.hasSuffix(unit.suffix) {
            let digits = trimmed.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else {
                return nil
            }
            let (milliseconds, overflow) = value.multipliedReportingOverflow(by: unit.milliseconds)
            guard !overflow else { return nil }
            return .milliseconds(milliseconds)
        }
        return nil
    }

    /// Prints a duration in the largest unit that represents it exactly (`90s` → `90s`, `600s` → `10m`).
    public static func formatDuration(_ duration: Duration) -> String {
        let milliseconds = duration.wholeMilliseconds
        for unit in self.durationUnits.reversed() where milliseconds % unit.milliseconds == 0 {
            return "\(milliseconds / unit.milliseconds)\(unit.suffix)"
        }
        return "\(milliseconds)ms"
    }

    /// Parses `512MiB`, `1GiB`, `10MB`, `4096B` or a bare byte count; nil for anything else.
    public static func parseByteSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingWhitespace()
        var digits = Substring(trimmed)
        var factor: Int64 = 1
        for unit in self.sizeUnits where trimmed.hasSuffix(unit.suffix) {
            digits = trimmed.dropLast(unit.suffix.count)
            factor = unit.factor
            break
        }
        digits = Substring(digits.trimmingWhitespace())
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else {
            return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : bytes
    }

    /// Prints a byte count in the largest binary unit that represents it exactly (`1073741824` → `1GiB`).
    public static func formatByteSize(_ bytes: Int64) -> String {
        for unit in self.sizeUnits.prefix(4).reversed() where bytes != 0 && bytes % unit.factor == 0 {
            return "\(bytes / unit.factor)\(unit.suffix)"
        }
        return "\(bytes)B"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
