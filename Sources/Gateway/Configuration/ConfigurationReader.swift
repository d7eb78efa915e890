import Yams

/// One raw configuration value: the scalar text and where it came from.
struct RawConfigurationValue {
    enum Shape {
        case scalar(plain: Bool)
        case mapping
        case sequence
        case alias
    }

    var text: String
    var shape: Shape
    var origin: ConfigurationError.Origin?
}

/// Reads the YAML node tree section by section, converting values to typed fields and collecting
/// every problem instead of stopping at the first. Environment overrides take precedence over the
/// file. Not thread-safe; lives only for one load.
struct ConfigurationReader {
    private(set) var errors: [ConfigurationError] = []
    /// Where each key's value came from (`nats.url` → line 9), for later combination errors.
    private(set) var origins: [String: ConfigurationError.Origin] = [:]
    /// Indexed sections by name; each `managers:` entry is one too, named `managers[N]`.
    var sections: [String: [String: (key: Node, value: Node)]] = [:]
    var sectionOrigins: [String: ConfigurationError.Origin] = [:]
    /// The section names of the `managers:` entries in file order; nil when the file has no `managers:`.
    var managerSections: [String]?
    let environment: [String: String]

    init(root: Node?, environment: [String: String]) {
        self.environment = environment
        self.indexDocument(root)
        self.checkEnvironmentNames()
    }

    mutating func report(
        _ code: ConfigurationError.Code, _ keyPath: String?, _ message: String,
        at origin: ConfigurationError.Origin? = nil
    ) {
        self.errors.append(
            ConfigurationError(
                code: code, keyPath: keyPath, message: message, origin: origin ?? keyPath.flatMap { self.origins[$0] }))
    }

    // MARK: Typed accessors

    mutating func string(_ section: String, _ key: String) -> String? {
        guard let raw = self.scalar(section, key, expected: "a string") else { return nil }
        return raw.text
    }

    mutating func requiredString(_ section: String, _ key: String, default value: String) -> String {
        if let text = self.string(section, key), !text.isEmpty {
            return text
        }
        if self.hasValue(section, key) {
            self.report(.invalidValue, "\(section).\(key)", "must not be empty")
        } else if self.managerSections?.contains(section) == true {
            self.report(.missingKey, "\(section).\(key)", "required key is missing", at: self.sectionOrigins[section])
        } else {
            let variable = ConfigurationSchema.environmentVariable(section: section, key: key)
            self.report(
                .missingKey, "\(section).\(key)", "required key is missing (set it in the file or in \(variable))",
                at: self.sectionOrigins[section])
        }
        return value
    }

    mutating func secret(_ section: String, _ key: String) -> Secret? {
        self.string(section, key).map(Secret.init)
    }

    mutating func int(_ section: String, _ key: String, default value: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = self.scalar(section, key, expected: "an integer") else { return value }
        guard let parsed = Int(raw.text.trimmingWhitespace()) else {
            self.report(.wrongType, "\(section).\(key)", "expected an integer, found \(self.quote(raw, section, key))")
            return value
        }
        return self.inRange(parsed, range, section, key) ?? value
    }

    mutating func int64Size(_ section: String, _ key: String, default value: Int64) -> Int64 {
        guard let raw = self.scalar(section, key, expected: "a size such as \"1GiB\"") else { return value }
        guard let parsed = ConfigurationUnits.parseByteSize(raw.text) else {
            self.report(
                .invalidValue, "\(section).\(key)",
                "expected a size such as \"512MiB\", \"1GiB\" or a byte count, found \(self.quote(raw, section, key))")
            return value
        }
        return parsed
    }

    mutating func bool(_ section: String, _ key: String, default value: Bool) -> Bool {
        guard let raw = self.scalar(section, key, expected: "true or false") else { return value }
        switch raw.text.trimmingWhitespace().lowercased() {
        case "true": return true
        case "false": return false
        default:
            self.report(
                .wrongType, "\(section).\(key)", "expected true or false, found \(self.quote(raw, section, key))")
            return value
        }
    }

    mutating func duration(_ section: String, _ key: String, default value: Duration) -> Duration {
        guard let raw = self.scalar(section, key, expected: "a duration such as \"5s\"") else { return value }
        if let parsed = ConfigurationUnits.parseDuration(raw.text) {
            return parsed
        }
        let found = self.quote(raw, section, key)
        if Int(raw.text.trimmingWhitespace()) != nil {
            self.report(
                .invalidValue, "\(section).\(key)",
                "expected a duration with a unit (ms, s, m, h, d) such as \"5s\", found the bare number \(found);"
                    + " a number without a unit is ambiguous")
        } else {
            self.report(
                .invalidValue, "\(section).\(key)",
                "expected a duration such as \"500ms\", \"5s\", \"10m\", \"2h\" or \"7d\", found \(found)")
        }
        return value
    }

    mutating func enumeration<Value: RawRepresentable & CaseIterable>(
        _ section: String, _ key: String, default value: Value
    ) -> Value where Value.RawValue == String {
        let names = Value.allCases.map(\.rawValue)
        let expected = "one of " + names.joined(separator: ", ")
        guard let raw = self.scalar(section, key, expected: expected) else { return value }
        let text = raw.text.trimmingWhitespace().lowercased()
        if let parsed = Value(rawValue: text) {
            return parsed
        }
        var message = "expected \(expected), found \(self.quote(raw, section, key))"
        if let close = ConfigurationSchema.closestMatch(to: text, among: names) {
            message += "; did you mean '\(close)'?"
        }
        self.report(.invalidValue, "\(section).\(key)", message)
        return value
    }

    /// Whether the key is present with a non-null value, in the environment or the file.
    func hasValue(_ section: String, _ key: String) -> Bool {
        if self.environment[ConfigurationSchema.environmentVariable(section: section, key: key)] != nil {
            return true
        }
        guard let value = self.sections[section]?[key]?.value else { return false }
        return !Self.isNull(value)
    }

    // MARK: Raw access

    private mutating func scalar(_ section: String, _ key: String, expected: String) -> RawConfigurationValue? {
        guard let raw = self.raw(section, key) else { return nil }
        let keyPath = "\(section).\(key)"
        switch raw.shape {
        case .scalar:
            return raw
        case .mapping:
            self.report(.wrongType, keyPath, "expected \(expected), found a mapping")
        case .sequence:
            self.report(.wrongType, keyPath, "expected \(expected), found a list")
        case .alias:
            self.report(.wrongType, keyPath, "expected \(expected), found a YAML alias (not supported)")
        }
        return nil
    }

    private mutating func raw(_ section: String, _ key: String) -> RawConfigurationValue? {
        let keyPath = "\(section).\(key)"
        let variable = ConfigurationSchema.environmentVariable(section: section, key: key)
        if let text = self.environment[variable] {
            let origin = ConfigurationError.Origin.environment(variable: variable)
            self.origins[keyPath] = origin
            return RawConfigurationValue(text: text, shape: .scalar(plain: false), origin: origin)
        }
        guard let entry = self.sections[section]?[key], !Self.isNull(entry.value) else { return nil }
        let origin = Self.origin(of: entry.value) ?? Self.origin(of: entry.key)
        self.origins[keyPath] = origin
        let shape: RawConfigurationValue.Shape
        switch entry.value {
        case .scalar(let scalar): shape = .scalar(plain: scalar.style == .plain)
        case .mapping: shape = .mapping
        case .sequence: shape = .sequence
        case .alias: shape = .alias
        }
        return RawConfigurationValue(text: entry.value.scalar?.string ?? "", shape: shape, origin: origin)
    }

    private func quote(_ raw: RawConfigurationValue, _ section: String, _ key: String) -> String {
        if ConfigurationSchema.secretKeys.contains("\(section).\(key)") {
            return "a value that is not shown (secret)"
        }
        let text = raw.text.count > 60 ? String(raw.text.prefix(57)) + "..." : raw.text
        return "\"\(text)\""
    }

    private mutating func inRange(_ value: Int, _ range: ClosedRange<Int>, _ section: String, _ key: String) -> Int? {
        if range.contains(value) {
            return value
        }
        let expectation: String
        if range.upperBound == Int.max {
            expectation = "at least \(range.lowerBound)"
        } else {
            expectation = "between \(range.lowerBound) and \(range.upperBound)"
        }
        self.report(.invalidValue, "\(section).\(key)", "expected an integer \(expectation), found \(value)")
        return nil
    }

    // MARK: Indexing and unknown keys

    private mutating func indexDocument(_ root: Node?) {
        guard let root else { return }
        guard case .mapping(let mapping) = root else {
            self.report(
                .wrongType, nil, "the document must be a mapping of sections (wazuh, nats, security, …)",
                at: Self.origin(of: root))
            return
        }
        for (keyNode, valueNode) in mapping {
            let name = keyNode.scalar?.string ?? ""
            let origin = Self.origin(of: keyNode)
            if name == ConfigurationSchema.managersSection {
                self.indexManagers(valueNode, at: origin)
                continue
            }
            guard ConfigurationSchema.sections.contains(where: { $0.name == name }) else {
                let hint = ConfigurationSchema.suggestion(forUnknownKey: name, inSection: nil)
                self.report(.unknownKey, name, "unknown section\(hint)", at: origin)
                continue
            }
            self.sectionOrigins[name] = origin
            if Self.isNull(valueNode) {
                self.sections[name] = [:]
                continue
            }
            guard case .mapping(let entries) = valueNode else {
                self.report(
                    .wrongType, name, "expected a mapping of keys, found a \(Self.shapeName(valueNode))", at: origin)
                continue
            }
            self.indexSection(name, entries: entries, keysOf: name)
        }
    }

    /// Indexes one section's mapping under `name`, reporting keys the schema section `keysOf` lacks.
    mutating func indexSection(_ name: String, entries: Node.Mapping, keysOf schemaSection: String) {
        var index: [String: (key: Node, value: Node)] = [:]
        let known = ConfigurationSchema.keys(of: schemaSection)
        for (entryKey, entryValue) in entries {
            let key = entryKey.scalar?.string ?? ""
            let keyOrigin = Self.origin(of: entryKey)
            // Duplicate keys never get here: Yams refuses them while composing.
            if known.contains(key) {
                index[key] = (entryKey, entryValue)
            } else {
                let hint = ConfigurationSchema.suggestion(forUnknownKey: key, inSection: schemaSection)
                self.report(.unknownKey, "\(name).\(key)", "unknown key\(hint)", at: keyOrigin)
            }
        }
        self.sections[name] = index
    }

    private mutating func checkEnvironmentNames() {
        let known =
            ConfigurationSchema.sections.flatMap { section in
                section.keys.map { ConfigurationSchema.environmentVariable(section: section.name, key: $0) }
            } + [WazuhAPISettings.passwordVariable]
        for name in self.environment.keys.sorted() where name.hasPrefix(ConfigurationSchema.environmentPrefix) {
            guard !known.contains(name) else { continue }
            var message = "unknown override variable"
            if let close = ConfigurationSchema.closestMatch(to: name, among: known) {
                message += "; did you mean '\(close)'?"
            }
            self.report(.unknownKey, nil, message, at: .environment(variable: name))
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func origin(of node: Node) -> ConfigurationError.Origin? {
        node.mark.map { .file(line: $0.line, column: $0.column) }
    }

    static func shapeName(_ node: Node) -> String {
        switch node {
        case .scalar: return "single value"
        case .mapping: return "mapping"
        case .sequence: return "list"
        case .alias: return "YAML alias"
        }
    }
}
