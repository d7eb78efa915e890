/// A problem found in the gateway configuration: names the key path, says what was expected, and
/// points at the file position (or environment variable) the value came from.
///
/// `description` never contains a secret value: messages about secret keys never echo the value,
/// and YAML syntax errors are reported by position and problem only, never with the offending line.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What kind of problem this is.
    public enum Code: String, Sendable, Hashable {
        /// The configuration file could not be read.
        case unreadableFile
        /// The file is not valid YAML.
        case invalidYAML
        /// A value has the wrong YAML shape or type (a mapping where a number belongs, …).
        case wrongType
        /// A value has the right type but is out of range or malformed (a bad duration, …).
        case invalidValue
        /// A key (or `WAZUH_NATS_GATEWAY_*` variable) that the gateway does not know.
        case unknownKey
        /// A required key is absent.
        case missingKey
        /// Keys that cannot be combined, or a key that requires another.
        case invalidCombination
        /// A referenced file is missing, unreadable, has unsafe permissions or bad content.
        case fileProblem
    }

    /// Where a value came from.
    public enum Origin: Sendable, Hashable {
        /// A position in the YAML file (1-based line and column).
        case file(line: Int, column: Int)
        /// An environment variable override.
        case environment(variable: String)
    }

    public var code: Code
    /// The dotted key path, e.g. `nats.max_reconnects`; nil for whole-file problems.
    public var keyPath: String?
    /// What is wrong and what was expected. Never holds a secret.
    public var message: String
    public var origin: Origin?
    /// The error that caused this one (reading the file, parsing YAML), if any.
    public var underlying: (any Error)?

    public init(code: Code, keyPath: String?, message: String, origin: Origin? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.keyPath = keyPath
        self.message = message
        self.origin = origin
        self.underlying = underlying
    }

    /// Two errors are equal when everything but the underlying error is.
    public static func == (lhs: ConfigurationError, rhs: ConfigurationError) -> Bool {
        lhs.code == rhs.code && lhs.keyPath == rhs.keyPath && lhs.message == rhs.message && lhs.origin == rhs.origin
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.code)
        hasher.combine(self.keyPath)
        hasher.combine(self.message)
        hasher.combine(self.origin)
    }

    /// ``description`` (never a secret); the underlying error may quote file content, so only here.
    public var debugDescription: String {
        var text = "ConfigurationError(code: \(self.code.rawValue), \(self.description)"
        if let underlying = self.underlying { text += ", underlying: \(String(reflecting: underlying))" }
        return text + ")"
    }

    public var description: String {
        var text = ""
        switch self.origin {
        case .file(let line, let column)?:
            text += "line \(line), column \(column): "
        case .environment(let variable)?:
            text += "environment \(variable): "
        case nil:
            break
        }
        if let keyPath {
            text += "\(keyPath): "
        }
        return text + self.message
    }
}

/// Every problem found while loading or validating a configuration, reported together.
public struct ConfigurationErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigurationError]
    /// The configuration file, when there was one; used as a prefix in `description`.
    public var source: String?

    public init(_ errors: [ConfigurationError], source: String? = nil) {
        self.errors = errors
        self.source = source
    }

    public var description: String {
        let noun = self.errors.count == 1 ? "problem" : "problems"
        var lines = ["configuration\(self.source.map { " \($0)" } ?? "") has \(self.errors.count) \(noun):"]
        lines += self.errors.map { "  - \($0)" }
        return lines.joined(separator: "\n")
    }
}
