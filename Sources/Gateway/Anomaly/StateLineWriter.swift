/// Builds the anomaly state log's text (``AnomalyStateLog``) straight into one byte buffer: integers
/// formatted in place, text fields escaped like ``StateLine/escape(_:)`` (copied as they are in the
/// common case), no intermediate `String` per field or per line.
///
/// A delta of a few hundred agents and a compaction of every track are written once per cycle; the
/// version that interpolated one `String` per line and joined them spent most of the journal's time
/// allocating and copying those strings. The text is byte for byte the same.
struct StateLineWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        self.bytes.reserveCapacity(capacity)
    }

    var isEmpty: Bool { self.bytes.isEmpty }
    var count: Int { self.bytes.count }
    var string: String { String(decoding: self.bytes, as: UTF8.self) }

    mutating func byte(_ value: UInt8) { self.bytes.append(value) }

    mutating func space() { self.bytes.append(0x20) }

    /// Decimal text of `value`, as `String(value)` writes it.
    mutating func int(_ value: Int64) {
        if value < 0 { self.bytes.append(0x2D) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // up to 20 digits, least significant first
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(truncatingIfNeeded: magnitude % 10) + 0x30
                magnitude /= 10
                count += 1
            } while magnitude > 0
            var index = count
            while index > 0 {
                index -= 1
                self.bytes.append(buffer[index])
            }
        }
    }

    mutating func int(_ value: Int) { self.int(Int64(value)) }

    /// `value` or `-` for none (``StateLine/optional(_:)``).
    mutating func optional(_ value: Int64?) {
        if let value { self.int(value) } else { self.bytes.append(0x2D) }
    }

    /// `text` escaped as ``StateLine/escape(_:)`` does.
    mutating func text(_ text: String) {
        var text = text
        let plain = text.withUTF8 { utf8 -> Bool in
            guard !utf8.isEmpty, !utf8.contains(where: { $0 == 0x25 || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D })
            else { return false }
            self.bytes.append(contentsOf: utf8)
            return true
        }
        if !plain { self.bytes.append(contentsOf: StateLine.escape(text).utf8) }
    }
}
