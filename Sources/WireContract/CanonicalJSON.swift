/// Serializes a ``JSONValue`` as RFC 8785 (JCS) canonical JSON.
///
/// - Object keys sorted by their UTF-16 code units, no whitespace anywhere.
/// - Strings: only `"` `\` and the controls U+0000–U+001F are escaped (`\b \t \n \f \r` by name, the others
///   as `\u00xx` in lowercase hex); everything else, U+2028/U+2029 and non-BMP characters included, is
///   written as raw UTF-8.
/// - Numbers as ECMAScript `Number.prototype.toString`: integers plainly, doubles with the shortest digits
///   that round-trip and ES exponent rules (`1e+21`, `1e-7`, `0.000001`); `-0` is `0`.
///   NaN and infinities have no JSON form: ``CanonicalJSON/serialize(_:)`` throws for them.
///
/// `.int` values outside ±2^53 are written exactly, which a JavaScript consumer would round; the contract
/// only uses small integers (counts, seconds).
public enum CanonicalJSON {
    /// A value that canonical JSON cannot represent (NaN or an infinity).
    public struct SerializationError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String { "canonical JSON cannot represent NaN or infinity" }
    }

    /// The canonical UTF-8 bytes of `value`.
    public static func serialize(_ value: JSONValue) throws(SerializationError) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(256)
        try self.append(value, to: &output)
        return output
    }

    /// The canonical text of `value`.
    public static func string(_ value: JSONValue) throws(SerializationError) -> String {
        String(decoding: try self.serialize(value), as: UTF8.self)
    }

    /// `text` as a JSON string literal, quotes included, escaped exactly as canonical JSON escapes it
    /// (log lines and HTTP bodies use it too).
    public static func quoted(_ text: String) -> String {
        var output = [UInt8]()
        output.reserveCapacity(text.utf8.count + 2)
        self.appendString(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    static func append(_ value: JSONValue, to output: inout [UInt8]) throws(SerializationError) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number):
            output.append(contentsOf: String(number).utf8)
        case .double(let number):
            guard number.isFinite else { throw SerializationError() }
            output.append(contentsOf: self.ecmaScriptNumber(number).utf8)
        case .string(let text):
            self.appendString(text, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                try self.append(element, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let sorted = members.sorted { self.utf16Less($0.key, $1.key) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                self.appendString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                try self.append(member.value, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Whether `lhs` sorts before `rhs` by UTF-16 code units (RFC 8785 §3.2.3).
    ///
    /// Compares UTF-8 bytes, which order like code points, and corrects the one case where UTF-16 differs:
    /// a supplementary character (UTF-8 lead byte F0–F4, a surrogate pair D800–DFFF in UTF-16) sorts
    /// before U+E000–U+FFFF (lead byte EE or EF).
    static func utf16Less(_ lhs: String, _ rhs: String) -> Bool {
        var left = lhs
        var right = rhs
        return left.withUTF8 { a in
            right.withUTF8 { b in
                let count = min(a.count, b.count)
                var index = 0
                while index < count && a[index] == b[index] { index += 1 }
                if index == count { return a.count < b.count }
                let x = a[index]
                let y = b[index]
                if x >= 0xF0 && (y == 0xEE || y == 0xEF) { return true }
                if y >= 0xF0 && (x == 0xEE || x == 0xEF) { return false }
                return x < y
            }
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func appendString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Copy runs of bytes that need no escaping in one go.
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") { continue }
                if runStart < index {
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                }
                self.appendEscape(byte, to: &output)
                runStart = index + 1
            }
            if runStart < bytes.count {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count]))
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x09: output.append(UInt8(ascii: "t"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        default:
            output.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            output.append(self.hexDigits[Int(byte >> 4)])
            output.append(self.hexDigits[Int(byte & 0x0F)])
        }
    }

    /// ECMAScript `Number::toString(x)` for a finite double.
    ///
    /// Swift's `description` already yields the shortest digit string that round-trips; it is taken
    /// apart into digits and a decimal exponent and re-assembled with the ES layout rules.
    static func ecmaScriptNumber(_ value: Double) -> String {
        if value == 0 { return "0" }
        let negative = value < 0
        let text = value.magnitude.description
        var mantissa = Substring(text)
        var exponent = 0
        if let marker = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<marker]
            exponent = Int(text[text.index(after: marker)...]) ?? 0
        }
        var digits = [UInt8]()
        var pointPosition = 0
        var seenPoint = false
        for character in mantissa.utf8 {
            if character == UInt8(ascii: ".") {
                seenPoint = true
                continue
            }
            digits.append(character)
            if !seenPoint { pointPosition += 1 }
        }
        pointPosition += exponent
        while let first = digits.first, first == UInt8(ascii: "0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while let last = digits.last, last == UInt8(ascii: "0") {
            digits.removeLast()
        }
        if digits.isEmpty { return "0" }

        // value = 0.d1d2…dk × 10^n  with k = digits.count, n = pointPosition.
        let k = digits.count
        let n = pointPosition
        var result = negative ? "-" : ""
        let digitText = String(decoding: digits, as: UTF8.self)
        if k <= n && n <= 21 {
            result += digitText + String(repeating: "0", count: n - k)
        } else if 0 < n && n <= 21 {
            result +=
                String(decoding: digits[0..<n], as: UTF8.self) + "."
                + String(decoding: digits[n...], as: UTF8.self)
        } else if -6 < n && n <= 0 {
            result += "0." + String(repeating: "0", count: -n) + digitText
        } else {
            let shown = n - 1
            let exponentText = (shown >= 0 ? "+" : "-") + String(shown.magnitude)
            if k == 1 {
                result += digitText + "e" + exponentText
            } else {
                result +=
                    String(decoding: digits[0..<1], as: UTF8.self) + "."
                    + String(decoding: digits[1...], as: UTF8.self) + "e" + exponentText
            }
        }
        return result
    }
}
