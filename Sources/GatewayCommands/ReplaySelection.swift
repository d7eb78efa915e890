import Foundation
import Gateway
import Outbox
import Timekeeping

/// Which journaled messages `replay` (and `outbox list`) pick. Every set criterion must match.
public struct ReplaySelection: Sendable, Hashable {
    /// Journaled at or after this time (Unix epoch milliseconds).
    public var since: Int64?
    /// Journaled strictly before this time (Unix epoch milliseconds).
    public var until: Int64?
    /// Zero-padded agent ids (`001`); empty means every agent (and batches). When set, batches and
    /// heartbeats, which belong to no single agent, are not selected.
    public var agents: [String]
    /// Outbox sequence range, both ends inclusive.
    public var fromSeq: Int64?
    public var toSeq: Int64?
    /// Only these kinds; `nil` means all.
    public var kinds: Set<OutboxMessageKind>?
    /// Also select messages the server has not acknowledged yet (pending or parked). By default
    /// `replay` re-sends only delivered messages: pending ones are still the delivery worker's job.
    public var includeUndelivered: Bool

    public init(
        since: Int64? = nil, until: Int64? = nil, agents: [String] = [], fromSeq: Int64? = nil, toSeq: Int64? = nil,
        kinds: Set<OutboxMessageKind>? = nil, includeUndelivered: Bool = false
    ) {
        self.since = since
        self.until = until
        self.agents = agents
        self.fromSeq = fromSeq
        self.toSeq = toSeq
        self.kinds = kinds
        self.includeUndelivered = includeUndelivered
    }

    /// Parses `--since`/`--until`: an RFC 3339 time (`2026-11-29T07:00:00Z`, fractional seconds and
    /// offsets allowed) or a duration back from `now` (`90s`, `15m`, `2h`, `7d`).
    /// - Returns: Unix epoch milliseconds.
    public static func parseTime(_ text: String, now: Int64) throws(OperatorCommandError) -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let duration = ConfigurationUnits.parseDuration(trimmed) {
            return now - duration.wholeMilliseconds
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: trimmed) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: trimmed) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        throw OperatorCommandError(
            .invalidArgument,
            "time \(text.debugDescription) is neither RFC 3339 (2026-11-29T07:00:00Z) nor a duration ago (2h, 30m)")
    }

    /// Normalises `--agent` values: `1`, `01` and `001` all mean agent `001`.
    public static func parseAgent(_ text: String) throws(OperatorCommandError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let number = Int(trimmed)
        else {
            throw OperatorCommandError(.invalidArgument, "agent id \(text.debugDescription) is not a number")
        }
        let digits = String(number)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits
    }

    /// Parses `--kind`: `event`, `secondary` or `batch`.
    public static func parseKind(_ text: String) throws(OperatorCommandError) -> OutboxMessageKind {
        guard let kind = OutboxMessageKind(rawValue: text.lowercased()) else {
            throw OperatorCommandError(
                .invalidArgument, "kind \(text.debugDescription) is not one of event, secondary, batch")
        }
        return kind
    }

    /// Reads every selected message from `store` in journal (`seq`) order, paging so that no more
    /// than `pageSize` rows are loaded per query, and stops after `limit` rows.
    func entries(in store: OutboxStore, deliveredOnly: Bool, limit: Int = .max, pageSize: Int = 1000)
        throws(OutboxError) -> [OutboxEntry]
    {
        try self.entries(deliveredOnly: deliveredOnly, limit: limit, pageSize: pageSize) {
            query throws(OutboxError) in try store.entries(matching: query)
        }
    }

    /// The same through a read-only ``OutboxReader``.
    func entries(in reader: OutboxReader, deliveredOnly: Bool, limit: Int = .max, pageSize: Int = 1000)
        throws(OutboxReadError) -> [OutboxEntry]
    {
        try self.entries(deliveredOnly: deliveredOnly, limit: limit, pageSize: pageSize) {
            query throws(OutboxReadError) in try reader.entries(matching: query)
        }
    }

    private func entries<Failure: Error>(
        deliveredOnly: Bool, limit: Int, pageSize: Int, fetch: (OutboxQuery) throws(Failure) -> [OutboxEntry]
    ) throws(Failure) -> [OutboxEntry] {
        let agentFilters: [String?] = self.agents.isEmpty ? [nil] : Array(Set(self.agents)).sorted()
        var result: [OutboxEntry] = []
        for agent in agentFilters {
            var after: Int64?
            var collected = 0
            while collected < limit {
                let query = OutboxQuery(
                    createdFrom: self.since, createdBefore: self.until, agentID: agent, seqFrom: self.fromSeq,
                    seqThrough: self.toSeq, deliveredOnly: deliveredOnly, kinds: self.kinds, afterSeq: after,
                    limit: min(pageSize, limit - collected))
                let page = try fetch(query)
                result.append(contentsOf: page)
                collected += page.count
                guard let last = page.last, page.count == query.limit else { break }
                after = last.message.seq
            }
        }
        if agentFilters.count > 1 {
            result.sort { $0.message.seq < $1.message.seq }
            if result.count > limit { result.removeLast(result.count - limit) }
        }
        return result
    }
}
