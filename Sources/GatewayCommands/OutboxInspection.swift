import Foundation
import Gateway
import Outbox
import WireContract

/// The `outbox stats` and `outbox list` commands' logic: read-only views of the journal.
///
/// The journal is opened with ``OutboxReader`` (`SQLITE_OPEN_READONLY`), never through ``OutboxStore``,
/// whose start-up check would move a damaged file aside.
///
/// Never prints key material; payloads (signed JSON, no secrets, but agent names and addresses)
/// only when asked for with `includePayload`.
public enum OutboxInspection {
    /// Which rows `outbox list` shows.
    public enum StateFilter: String, Sendable, Hashable, CaseIterable {
        case all
        /// Neither delivered nor parked.
        case pending
        /// Given up on after a permanent failure.
        case parked
        /// Acknowledged by the server.
        case delivered
    }

    /// `outbox list` options.
    public struct ListOptions: Sendable, Hashable {
        public var state: StateFilter
        public var selection: ReplaySelection
        /// At most this many rows (the first ones in journal order).
        public var limit: Int
        /// One JSON object per line instead of aligned text.
        public var json: Bool
        /// Add the signed JSON payload to each row.
        public var includePayload: Bool

        public init(
            state: StateFilter = .all, selection: ReplaySelection = ReplaySelection(includeUndelivered: true),
            limit: Int = 100, json: Bool = false, includePayload: Bool = false
        ) {
            self.state = state
            self.selection = selection
            self.limit = limit
            self.json = json
            self.includePayload = includePayload
        }
    }

    /// Opens the configured outbox read-only (``OutboxReader``): nothing is created, migrated, checked
    /// and moved aside, or written, so inspecting a running gateway's journal — or a damaged one — is safe.
    static func openExisting(_ configuration: GatewayConfiguration) throws(OperatorCommandError) -> OutboxReader {
        do {
            return try OutboxReader(path: configuration.outbox.path)
        } catch {
            // Where the file is not there or not an outbox at all, the configured path is the likely culprit.
            let hint = [.missing, .notADatabase, .notAnOutbox].contains(error.code) ? "; check outbox.path" : ""
            throw OperatorCommandError(.outboxUnavailable, error.description + hint)
        }
    }

    /// RFC 3339 UTC with milliseconds, e.g. `2026-11-29T07:05:32.123Z`.
    static func timestamp(milliseconds: Int64) -> String {
        WireTimestamp.string(epochMilliseconds: milliseconds)
    }

    /// `outbox stats`: counts, oldest pending age, database size, snapshot age and last sequence,
    /// one `name: value` line each.
    ///
    /// The snapshot is rewritten with every journaled detection and at baselining, so its age is the
    /// time since the later of the newest journaled row and the baseline.
    public static func statsLines(
        _ configuration: GatewayConfiguration, now: Int64 = OutboxStore.wallClockMilliseconds()
    ) throws(OperatorCommandError) -> [String] {
        let reader = try self.openExisting(configuration)
        defer { try? reader.close() }
        do throws(OutboxReadError) {
            let stats = try reader.stats()
            let baseline = try reader.baselineRecordedAt()
            let newest = try reader.entries(matching: OutboxQuery(afterSeq: max(0, stats.lastSeq - 1), limit: 1))
                .last?.message.createdAt
            let snapshotAt = [baseline, newest].compactMap { $0 }.max()
            var lines = [
                "outbox: \(configuration.outbox.path)",
                "pending: \(stats.pending)",
                "delivered: \(stats.delivered)",
                "parked: \(stats.parked)",
                "oldest_pending_age: " + (stats.oldestPendingAgeSeconds.map { "\($0)s" } ?? "-"),
                "database_bytes: \(stats.databaseBytes) (\(ConfigurationUnits.formatByteSize(stats.databaseBytes)))",
                "last_seq: \(stats.lastSeq)",
            ]
            if let snapshotAt {
                lines.append("snapshot_age: \(max(0, now - snapshotAt) / 1000)s")
                lines.append("snapshot_at: " + self.timestamp(milliseconds: snapshotAt))
            } else {
                lines.append("snapshot_age: - (no baseline yet)")
            }
            return lines
        } catch {
            throw OperatorCommandError(.outboxUnavailable, error.description)
        }
    }

    /// `outbox list`: one line per message in journal order.
    ///
    /// Text lines: `seq  state  kind  subject  message_id  created  attempts  [last error]`. JSON lines:
    /// an object with `seq`, `state`, `kind`, `subject`, `message_id`, `event_id`, `agent_id`,
    /// `created`, `attempts`, `last_error`, `delivered`, `stream_seq`, `parked` and, with
    /// `includePayload`, `payload` (the journaled JSON as a string).
    public static func listLines(_ configuration: GatewayConfiguration, options: ListOptions)
        throws(OperatorCommandError) -> [String]
    {
        guard options.limit > 0 else {
            throw OperatorCommandError(.invalidArgument, "--limit must be at least 1")
        }
        let reader = try self.openExisting(configuration)
        defer { try? reader.close() }
        var entries: [OutboxEntry] = []
        do throws(OutboxReadError) {
            // Delivered rows are filtered in SQL; pending and parked ones are filtered here, page by page.
            var selection = options.selection
            var scanned = 0
            while entries.count < options.limit {
                let page = try selection.entries(
                    in: reader, deliveredOnly: options.state == .delivered, limit: 1000, pageSize: 1000)
                entries.append(contentsOf: page.filter { self.matches($0, options.state) })
                scanned += page.count
                guard let last = page.last, page.count == 1000 else { break }
                selection.fromSeq = last.message.seq + 1
            }
        } catch {
            throw OperatorCommandError(.outboxUnavailable, error.description)
        }
        if entries.count > options.limit { entries.removeLast(entries.count - options.limit) }
        return entries.map {
            options.json ? self.jsonLine($0, options.includePayload) : self.textLine($0, options.includePayload)
        }
    }

    static func state(of entry: OutboxEntry) -> StateFilter {
        if entry.parkedAt != nil { return .parked }
        if entry.deliveredAt != nil { return .delivered }
        return .pending
    }

    private static func matches(_ entry: OutboxEntry, _ filter: StateFilter) -> Bool {
        filter == .all || self.state(of: entry) == filter
    }

    private static func textLine(_ entry: OutboxEntry, _ includePayload: Bool) -> String {
        let message = entry.message
        var fields = [
            String(message.seq), self.state(of: entry).rawValue, message.kind.rawValue, message.subject,
            message.messageID, self.timestamp(milliseconds: message.createdAt), "attempts=\(entry.attempts)",
        ]
        if let stream = entry.streamSequence { fields.append("stream_seq=\(stream)") }
        if let error = entry.lastError { fields.append("last_error=" + error.debugDescription) }
        if includePayload { fields.append(String(decoding: message.payload, as: UTF8.self)) }
        return fields.joined(separator: "  ")
    }

    private static func jsonLine(_ entry: OutboxEntry, _ includePayload: Bool) -> String {
        let message = entry.message
        var object: [String: JSONValue] = [
            "seq": .int(message.seq),
            "state": .string(self.state(of: entry).rawValue),
            "kind": .string(message.kind.rawValue),
            "subject": .string(message.subject),
            "message_id": .string(message.messageID),
            "event_id": .string(message.eventID),
            "agent_id": .optionalString(message.agentID),
            "created": .string(self.timestamp(milliseconds: message.createdAt)),
            "attempts": .int(Int64(entry.attempts)),
            "last_error": .optionalString(entry.lastError),
            "delivered": .optionalString(entry.deliveredAt.map { self.timestamp(milliseconds: $0) }),
            "stream_seq": .optionalInt(entry.streamSequence.flatMap { Int64(exactly: $0) }),
            "parked": .optionalString(entry.parkedAt.map { self.timestamp(milliseconds: $0) }),
        ]
        if includePayload {
            object["payload"] = .string(String(decoding: message.payload, as: UTF8.self))
        }
        return (try? CanonicalJSON.string(.object(object))) ?? "{}"
    }
}
