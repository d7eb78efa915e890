import Logging

/// A swift-log handler writing one JSON object per line:
///
/// `{"ts":"2026-11-29T06:15:04.123Z","level":"info","label":"gateway","message":"connected",
///   "nats.url":"nats://127.0.0.1:4222","source":"Gateway","file":"Gateway/X.swift","line":42,
///   "function":"run()"}`
///
/// Metadata is flattened into top-level keys, nested dictionaries joined with dots
/// (`["nats": ["subject": "x"]]` → `"nats.subject"`); a metadata key that collides with one of the
/// fixed fields is prefixed with `metadata.`. Values are JSON strings (arrays: arrays of strings).
/// An `error` attached to the log event appears as `"error"` (its `description`).
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: LogOutput

    static let fixedFields: Set<String> = [
        "ts", "level", "label", "message", "source", "file", "line", "function", "error",
    ]

    public init(
        label: String, level: Logger.Level = .info, output: LogOutput = .standardError,
        metadataProvider: Logger.MetadataProvider? = nil
    ) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{"
        func field(_ key: String, _ value: String, quoted: Bool = true) {
            if line.count > 1 { line += "," }
            line += JSONText.quote(key) + ":" + (quoted ? JSONText.quote(value) : value)
        }
        field("ts", LogTimestamp.now())
        field("level", event.level.rawValue)
        field("label", self.label)
        field("message", event.message.description)
        if let error = event.error {
            field("error", String(describing: error))
        }
        let merged = LogMetadataMerge.merge(
            handler: self.metadata, provider: self.metadataProvider, event: event.metadata)
        for (key, value) in LogMetadataMerge.flatten(merged) {
            let name = Self.fixedFields.contains(key) ? "metadata." + key : key
            switch value {
            case .array(let items):
                field(
                    name, "[" + items.map { JSONText.quote($0.description) }.joined(separator: ",") + "]", quoted: false
                )
            default:
                field(name, value.description)
            }
        }
        field("source", event.source)
        field("file", event.file)
        field("line", String(event.line), quoted: false)
        field("function", event.function)
        line += "}\n"
        self.output.write(line)
    }
}

/// Metadata merging and flattening shared by the JSON and text handlers.
enum LogMetadataMerge {
    /// Handler metadata, then the provider's, then the event's: later wins.
    static func merge(
        handler: Logger.Metadata, provider: Logger.MetadataProvider?, event: Logger.Metadata?
    ) -> Logger.Metadata {
        var merged = handler
        if let provided = provider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let event {
            merged.merge(event) { _, new in new }
        }
        return merged
    }

    /// Nested dictionaries become dotted keys; the result is sorted by key for stable output.
    static func flatten(_ metadata: Logger.Metadata, prefix: String = "") -> [(String, Logger.Metadata.Value)] {
        var result: [(String, Logger.Metadata.Value)] = []
        for (key, value) in metadata {
            let name = prefix.isEmpty ? key : prefix + "." + key
            if case .dictionary(let nested) = value {
                result += self.flatten(nested, prefix: name)
            } else {
                result.append((name, value))
            }
        }
        return result.sorted { $0.0 < $1.0 }
    }
}

/// Minimal JSON string quoting (RFC 8259): quotes, backslashes and control characters escaped.
enum JSONText {
    static func quote(_ text: String) -> String {
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
