import Logging

/// What ``JSONLogHandler`` and ``TextLogHandler`` share: swift-log's metadata subscript, the merge
/// of handler, provider and event metadata (``LogMetadataMerge``), and the write of one line to the
/// ``LogOutput``. Each handler only lays out its line.
protocol LogLineHandler: LogHandler {
    var label: String { get }
    var output: LogOutput { get }
    /// The line (newline included) for `event`, whose merged metadata is `fields`: flattened to
    /// dotted keys, sorted by key.
    func line(for event: LogEvent, fields: [(String, Logger.Metadata.Value)]) -> String
}

extension LogLineHandler {
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = LogMetadataMerge.merge(
            handler: self.metadata, provider: self.metadataProvider, event: event.metadata)
        self.output.write(self.line(for: event, fields: LogMetadataMerge.flatten(merged)))
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
