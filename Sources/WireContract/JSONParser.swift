/// JSON text could not be parsed into a ``JSONValue``.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong with the text.
    public enum Code: String, Sendable, Hashable {
        /// More bytes than the parser's size limit.
        case tooLarge
        /// Arrays and objects nested deeper than the parser's depth limit.
        case tooDeep
        /// The text ended in the middle of a value.
        case unexpectedEnd
        /// A byte that cannot start or continue a value here.
        case unexpectedByte
        /// A malformed number, or one outside the range of a double.
        case invalidNumber
        /// A bad escape, a lone surrogate, a raw control character or invalid UTF-8 in a string.
        case invalidString
        /// The same key twice in one object (I-JSON forbids it; it would make signatures ambiguous).
        case duplicateKey
        /// Non-whitespace after the top-level value.
        case trailingData
    }

    /// What was wrong.
    public var code: Code
    /// Byte offset in the input where the problem was found.
    public var offset: Int

    public init(code: Code, offset: Int) {
        self.code = code
        self.offset = offset
    }

    public var description: String { "invalid JSON (\(self.code.rawValue)) at byte \(self.offset)" }
}

/// Parses untrusted JSON bytes (RFC 8259, UTF-8) into a ``JSONValue`` within size and depth limits.
///
/// Written by hand rather than using Foundation's `JSONDecoder`/`JSONSerialization` because signatures
/// depend on exactly what was parsed: those accept duplicate keys (keeping one silently, so two readers
/// could see different objects behind one signature), turn large integers into doubles (an id or a
/// sequence above 2^53 would change), and have no depth or size limit a consumer can set. Fuzzed by
/// `Fuzz/Sources/WireContractFuzz` (`Fuzz/run.sh 60 WireContractFuzz`).
///
/// Hostile input yields a ``JSONParseError``, never a crash: nesting is bounded by `maximumDepth` (the
/// parser recurses once per level), input length by `maximumBytes`; duplicate keys and lone surrogates are
/// refused. Numbers without fraction or exponent that fit in `Int64` become `.int`, all others `.double`.
public struct JSONParser: Sendable {
    /// The longest accepted input, in bytes.
    public var maximumBytes: Int
    /// The deepest accepted nesting of arrays and objects.
    public var maximumDepth: Int

    public init(maximumBytes: Int = 16 * 1024 * 1024, maximumDepth: Int = 64) {
        self.maximumBytes = maximumBytes
        self.maximumDepth = maximumDepth
    }

    /// Parses one JSON value; only whitespace may surround it.
    public func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        guard bytes.count <= self.maximumBytes else { throw JSONParseError(code: .tooLarge, offset: 0) }
        return try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            var reader = Reader(bytes: buffer, maximumDepth: self.maximumDepth)
            reader.skipWhitespace()
            let value = try reader.parseValue(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else {
                throw JSONParseError(code: .trailingData, offset: reader.position)
            }
            return value
        }
    }
}

private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    let maximumDepth: Int
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    mutating func skipWhitespace() {
        while self.position < self.bytes.count {
            switch self.bytes[self.position] {
            case 0x20, 0x09, 0x0A, 0x0D: self.position += 1
            default: return
            }
        }
    }

    func fail(_ code: JSONParseError.Code) -> JSONParseError {
        JSONParseError(code: code, offset: self.position)
    }

    func peek() throws(JSONParseError) -> UInt8 {
        guard self.position < self.bytes.count else { throw self.fail(.unexpectedEnd) }
        return self.bytes[self.position]
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard self.position + count <= self.bytes.count else { throw self.fail(.unexpectedEnd) }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { self.bytes[self.position + $0] == expected[$0] }
        }
        guard matches else { throw self.fail(.unexpectedByte) }
        self.position += count
    }

    mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        switch try self.peek() {
        case UInt8(ascii: "{"):
            return try self.parseObject(depth: depth + 1)
        case UInt8(ascii: "["):
            return try self.parseArray(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try self.parseString())
        case UInt8(ascii: "t"):
            try self.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try self.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try self.expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try self.parseNumber()
        default:
            throw self.fail(.unexpectedByte)
        }
    }

    mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= self.maximumDepth else { throw self.fail(.tooDeep) }
        self.position += 1
        var members = [String: JSONValue]()
        self.skipWhitespace()
        if try self.peek() == UInt8(ascii: "}") {
            self.position += 1
            return .object(members)
        }
        while true {
            self.skipWhitespace()
            guard try self.peek() == UInt8(ascii: "\"") else { throw self.fail(.unexpectedByte) }
            let keyOffset = self.position
            let key = try self.parseString()
            self.skipWhitespace()
            guard try self.peek() == UInt8(ascii: ":") else { throw self.fail(.unexpectedByte) }
            self.position += 1
            self.skipWhitespace()
            let value = try self.parseValue(depth: depth)
            guard members.updateValue(value, forKey: key) == nil else {
                throw JSONParseError(code: .duplicateKey, offset: keyOffset)
            }
            self.skipWhitespace()
            let next = try self.peek()
            self.position += 1
            if next == UInt8(ascii: "}") { return .object(members) }
            guard next == UInt8(ascii: ",") else {
                self.position -= 1
                throw self.fail(.unexpectedByte)
            }
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= self.maximumDepth else { throw self.fail(.tooDeep) }
        self.position += 1
        var elements = [JSONValue]()
        self.skipWhitespace()
        if try self.peek() == UInt8(ascii: "]") {
            self.position += 1
            return .array(elements)
        }
        while true {
            self.skipWhitespace()
            elements.append(try self.parseValue(depth: depth))
            self.skipWhitespace()
            let next = try self.peek()
            self.position += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else {
                self.position -= 1
                throw self.fail(.unexpectedByte)
            }
        }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = self.position
        var isInteger = true
        if self.bytes[self.position] == UInt8(ascii: "-") { self.position += 1 }
        // Integer part: "0" or a non-zero digit followed by digits.
        guard self.position < self.bytes.count else { throw self.fail(.unexpectedEnd) }
        if self.bytes[self.position] == UInt8(ascii: "0") {
            self.position += 1
        } else if self.isDigit(at: self.position) {
            while self.isDigit(at: self.position) { self.position += 1 }
        } else {
            throw self.fail(.invalidNumber)
        }
        if self.position < self.bytes.count, self.bytes[self.position] == UInt8(ascii: ".") {
            isInteger = false
            self.position += 1
            guard self.isDigit(at: self.position) else { throw self.fail(.invalidNumber) }
            while self.isDigit(at: self.position) { self.position += 1 }
        }
        if self.position < self.bytes.count,
            self.bytes[self.position] == UInt8(ascii: "e") || self.bytes[self.position] == UInt8(ascii: "E")
        {
            isInteger = false
            self.position += 1
            if self.position < self.bytes.count,
                self.bytes[self.position] == UInt8(ascii: "+") || self.bytes[self.position] == UInt8(ascii: "-")
            {
                self.position += 1
            }
            guard self.isDigit(at: self.position) else { throw self.fail(.invalidNumber) }
            while self.isDigit(at: self.position) { self.position += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.position]), as: UTF8.self)
        if isInteger, let integer = Int64(text) {
            return .int(integer)
        }
        guard let double = Double(text), double.isFinite else {
            throw JSONParseError(code: .invalidNumber, offset: start)
        }
        return .double(double)
    }

    func isDigit(at index: Int) -> Bool {
        index < self.bytes.count && self.bytes[index] >= UInt8(ascii: "0") && self.bytes[index] <= UInt8(ascii: "9")
    }

    mutating func parseString() throws(JSONParseError) -> String {
        self.position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        while true {
            guard self.position < self.bytes.count else { throw self.fail(.unexpectedEnd) }
            let byte = self.bytes[self.position]
            switch byte {
            case UInt8(ascii: "\""):
                self.position += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                self.position += 1
                scalars.append(try self.parseEscape())
            case 0x00..<0x20:
                throw self.fail(.invalidString)
            case 0x00..<0x80:
                scalars.append(Unicode.Scalar(byte))
                self.position += 1
            default:
                scalars.append(try self.parseUTF8Scalar())
            }
        }
    }

    mutating func parseEscape() throws(JSONParseError) -> Unicode.Scalar {
        guard self.position < self.bytes.count else { throw self.fail(.unexpectedEnd) }
        let byte = self.bytes[self.position]
        self.position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let first = try self.parseHex4()
            if (0xD800...0xDBFF).contains(first) {
                guard self.position + 1 < self.bytes.count, self.bytes[self.position] == UInt8(ascii: "\\"),
                    self.bytes[self.position + 1] == UInt8(ascii: "u")
                else { throw self.fail(.invalidString) }
                self.position += 2
                let second = try self.parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else { throw self.fail(.invalidString) }
                let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                guard let scalar = Unicode.Scalar(combined) else { throw self.fail(.invalidString) }
                return scalar
            }
            guard let scalar = Unicode.Scalar(first) else { throw self.fail(.invalidString) }
            return scalar
        default:
            self.position -= 1
            throw self.fail(.invalidString)
        }
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard self.position + 4 <= self.bytes.count else { throw self.fail(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = self.bytes[self.position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw self.fail(.invalidString)
            }
            value = value << 4 | digit
            self.position += 1
        }
        return value
    }

    /// Decodes one multi-byte UTF-8 sequence strictly (no overlongs, no surrogates, at most U+10FFFF).
    mutating func parseUTF8Scalar() throws(JSONParseError) -> Unicode.Scalar {
        let lead = self.bytes[self.position]
        let length: Int
        var value: UInt32
        let minimum: UInt32
        switch lead {
        case 0xC2...0xDF:
            length = 2
            value = UInt32(lead & 0x1F)
            minimum = 0x80
        case 0xE0...0xEF:
            length = 3
            value = UInt32(lead & 0x0F)
            minimum = 0x800
        case 0xF0...0xF4:
            length = 4
            value = UInt32(lead & 0x07)
            minimum = 0x10000
        default:
            throw self.fail(.invalidString)
        }
        guard self.position + length <= self.bytes.count else { throw self.fail(.unexpectedEnd) }
        for offset in 1..<length {
            let continuation = self.bytes[self.position + offset]
            guard continuation & 0xC0 == 0x80 else { throw self.fail(.invalidString) }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        guard value >= minimum, value <= 0x10FFFF, let scalar = Unicode.Scalar(value) else {
            throw self.fail(.invalidString)
        }
        self.position += length
        return scalar
    }
}
