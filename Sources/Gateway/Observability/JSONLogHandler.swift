import Logging
import WireContract

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
public struct JSONLogHandler: LogLineHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let output: LogOutput

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

    func line(for event: LogEvent, fields: [(String, Logger.Metadata.Value)]) -> String {
        var line = "{"
        func field(_ key: String, _ value: String, quoted: Bool = true) {
            if line.count > 1 { line += "," }
            line += CanonicalJSON.quoted(key) + ":" + (quoted ? CanonicalJSON.quoted(value) : value)
        }
        field("ts", LogTimestamp.now())
        field("level", event.level.rawValue)
        field("label", self.label)
        field("message", event.message.description)
        if let error = event.error {
            field("error", String(describing: error))
        }
        for (key, value) in fields {
            let name = Self.fixedFields.contains(key) ? "metadata." + key : key
            switch value {
            case .array(let items):
                field(
                    name, "[" + items.map { CanonicalJSON.quoted($0.description) }.joined(separator: ",") + "]",
                    quoted: false
                )
            default:
                field(name, value.description)
            }
        }
        field("source", event.source)
        field("file", event.file)
        field("line", String(event.line), quoted: false)
        field("function", event.function)
        return line + "}\n"
    }
}
