import Foundation
import Gateway
import Outbox
import WireContract

/// The `audit verify` and `audit export` commands' logic, over the outbox opened read-only
/// (``OutboxReader``): checking the audit log's hash chain and writing it out as JSON lines.
public enum AuditInspection {
    /// What `audit verify` found, as lines for the operator, and whether the chain holds.
    public struct Report: Sendable, Hashable {
        public var lines: [String]
        public var verification: AuditVerification
    }

    /// `audit verify`: walks the chain from its anchor (the last pruned record) to its head.
    ///
    /// - Throws: ``OperatorCommandError`` when the outbox cannot be read; a broken chain is a report
    ///   whose `verification.isIntact` is false (the command then exits non-zero).
    public static func verify(_ configuration: GatewayConfiguration) throws(OperatorCommandError) -> Report {
        let reader = try OutboxInspection.openExisting(configuration)
        defer { try? reader.close() }
        let verification: AuditVerification
        do {
            verification = try reader.verifyAudit()
        } catch {
            throw OperatorCommandError(.outboxUnavailable, error.description)
        }
        var lines: [String] = []
        if let anchor = verification.anchor {
            lines.append("anchor: record \(anchor.sequence) \(Hex.encode(anchor.hash)) (records up to it were pruned)")
        } else {
            lines.append("anchor: genesis (nothing pruned)")
        }
        lines.append("verified_records: \(verification.verifiedRecords)")
        if let last = verification.lastVerified {
            lines.append("last_verified: record \(last.sequence) \(Hex.encode(last.hash))")
        }
        if let found = verification.firstBreak {
            lines.append("BROKEN: \(found)")
        } else {
            lines.append("chain: intact")
        }
        return Report(lines: lines, verification: verification)
    }

    /// `audit export`: every record recorded in `[since, until)` (epoch ms, either open), one canonical
    /// JSON object per line (see ``AuditRecord/jsonObject``), handed to `write` in sequence order.
    ///
    /// - Returns: how many records were written.
    @discardableResult
    public static func export(
        _ configuration: GatewayConfiguration, since: Int64?, until: Int64?, pageSize: Int = 1000,
        write: (String) -> Void
    ) throws(OperatorCommandError) -> Int {
        let reader = try OutboxInspection.openExisting(configuration)
        defer { try? reader.close() }
        var after = Int64.min
        var written = 0
        do {
            while true {
                let page = try reader.auditRecords(
                    afterSequence: after, recordedFrom: since, recordedBefore: until, limit: pageSize)
                for record in page {
                    // Strings, integers and null only: serialization cannot fail.
                    let line = (try? CanonicalJSON.string(.object(record.jsonObject))) ?? "{}"
                    write(line)
                    written += 1
                }
                guard let last = page.last else { break }
                after = last.sequence
            }
        } catch {
            throw OperatorCommandError(.outboxUnavailable, error.description)
        }
        return written
    }
}
