import Logging
import WireContract

/// A swift-log handler writing human-readable lines for a terminal:
///
/// `2026-11-29T06:15:04.123Z info gateway: connected nats.url=nats://127.0.0.1:4222`
///
/// Metadata is flattened like `JSONLogHandler` and printed as `key=value`, values containing
/// spaces or quotes are quoted. Source location is printed for `debug` and `trace` only.
public struct TextLogHandler: LogLineHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let output: LogOutput

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
        var line = "\(LogTimestamp.now()) \(event.level.rawValue) \(self.label): \(event.message.description)"
        var fields = fields
        if let error = event.error {
            fields.append(("error", .string(String(describing: error))))
        }
        for (key, value) in fields {
            line += " \(key)=\(Self.render(value.description))"
        }
        if event.level <= .debug {
            line += " (\(event.file):\(event.line))"
        }
        return line + "\n"
    }

    private static func render(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "=" })
        return needsQuotes ? CanonicalJSON.quoted(value) : value
    }
}

/// Builds the log handler factory the executable passes to `LoggingSystem.bootstrap` (the only
/// place the global logging system is bootstrapped; libraries and tests never do).
public enum GatewayLogging {
    public static func handlerFactory(
        format: GatewayConfiguration.LogFormat, level: Logger.Level, output: LogOutput = .standardError
    ) -> @Sendable (String, Logger.MetadataProvider?) -> any LogHandler {
        { label, provider in
            switch format {
            case .json:
                return JSONLogHandler(label: label, level: level, output: output, metadataProvider: provider)
            case .text:
                return TextLogHandler(label: label, level: level, output: output, metadataProvider: provider)
            }
        }
    }
}
