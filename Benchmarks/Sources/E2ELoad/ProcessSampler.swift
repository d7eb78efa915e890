import Foundation

/// CPU time and memory of another process, from /proc (Linux).
struct ProcessSampler {
    let pid: Int32

    /// utime + stime of the process, in seconds (clock-tick resolution).
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return .nan }
        // After the command name: field 3 is the state, utime is field 14 and stime field 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A `VmXxx:` line of /proc/PID/status, in KiB.
    func status(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return Int(line.dropFirst(key.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    func residentKiB() -> Int? { status("VmRSS") }
}

/// What one phase of the load measured.
struct PhaseResult {
    var name: String
    var wallSeconds: Double
    var cpuSeconds: Double
    var residentKiB: [Int]
    var changes: Int
    var startMilliseconds: Int64
    var endMilliseconds: Int64

    var json: [String: Any] {
        let sorted = residentKiB.sorted()
        return [
            "wall_s": wallSeconds, "cpu_s": cpuSeconds, "cpu_percent": 100 * cpuSeconds / max(wallSeconds, 1e-9),
            "rss_median_kib": sorted.isEmpty ? 0 : sorted[sorted.count / 2], "rss_max_kib": sorted.last ?? 0,
            "changes": changes, "start_ms": startMilliseconds, "end_ms": endMilliseconds,
        ]
    }
}
