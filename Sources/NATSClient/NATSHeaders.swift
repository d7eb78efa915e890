/// The status line of a message with headers, e.g. `NATS/1.0 503` (no responders) or `NATS/1.0 408 Request Timeout`.
public struct NATSStatus: Sendable, Hashable {
    /// The three-digit code.
    public var code: Int
    /// The optional description after the code.
    public var description: String

    public init(code: Int, description: String = "") {
        self.code = code
        self.description = description
    }

    /// `503`: a request found no subscriber on its subject.
    public static let noRespondersCode = 503
}

/// Message headers in the NATS/1.0 format (like HTTP/1 headers), in their original order.
///
/// Names keep their case on the wire; lookups ignore case. A name may repeat.
public struct NATSHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// One header line.
    public struct Field: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    public var isEmpty: Bool { self.fields.isEmpty }

    /// The first value for `name` (case-insensitive), or `nil`.
    public subscript(name: String) -> String? {
        let lowered = name.lowercased()
        return self.fields.first { $0.name.lowercased() == lowered }?.value
    }

    /// Every value for `name` (case-insensitive), in order.
    public func values(for name: String) -> [String] {
        let lowered = name.lowercased()
        return self.fields.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// Appends a header line, keeping any earlier value of the same name.
    public mutating func append(name: String, value: String) {
        self.fields.append(Field(name: name, value: value))
    }

    /// Replaces every value of `name` with `value`.
    public mutating func set(name: String, value: String) {
        let lowered = name.lowercased()
        self.fields.removeAll { $0.name.lowercased() == lowered }
        self.fields.append(Field(name: name, value: value))
    }

    public func makeIterator() -> IndexingIterator<[Field]> {
        self.fields.makeIterator()
    }

    /// Whether a name or value can be written to the wire without breaking framing.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }
    }

    static func isValidValue(_ value: String) -> Bool {
        value.utf8.allSatisfy { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
    }
}
