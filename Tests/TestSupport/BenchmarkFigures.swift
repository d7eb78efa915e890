import Foundation

/// A benchmark program could not measure what it set out to (a wrong count, a missed deadline).
public struct BenchmarkFailure: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}

/// `duration` in seconds, with its sub-second part.
public func seconds(_ duration: Duration) -> Double {
    let (whole, attoseconds) = duration.components
    return Double(whole) + Double(attoseconds) / 1e18
}

/// The median of `values` (the mean of the middle two for an even count; NaN for none): benchmarks on a shared
/// machine report medians of rounds.
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
