/// Checks an audit chain record by record, in sequence order, without holding it in memory.
///
/// Starts from an anchor: the sequence and hash of the last record before the first one checked (the
/// last pruned record, or sequence 0 with ``AuditRecord/genesisHash`` for a chain never pruned). Each
/// record must carry the next sequence, the previous record's hash as its `previous_hash`, and a
/// `hash` equal to the one its fields call for. The first record that does not is the break; a deleted
/// record shows as a gap, a reordered one as a sequence or previous-hash mismatch, an edited one as a
/// hash mismatch.
public struct AuditChainVerifier: Sendable {
    /// Why a record breaks the chain.
    public enum Problem: String, Sendable, Hashable {
        /// Its sequence is not the one after the previous record's (a record missing or moved).
        case sequenceGap = "sequence_gap"
        /// Its `previous_hash` is not the previous record's hash.
        case previousHashMismatch = "previous_hash_mismatch"
        /// Its `hash` is not what its fields and `previous_hash` give: the record was edited.
        case hashMismatch = "hash_mismatch"
    }

    /// The first break found.
    public struct Break: Sendable, Hashable, CustomStringConvertible {
        /// The sequence of the record that breaks the chain.
        public var sequence: Int64
        /// The sequence the chain expected there.
        public var expectedSequence: Int64
        public var problem: Problem

        public init(sequence: Int64, expectedSequence: Int64, problem: Problem) {
            self.sequence = sequence
            self.expectedSequence = expectedSequence
            self.problem = problem
        }

        public var description: String {
            switch self.problem {
            case .sequenceGap:
                return "record \(self.sequence) follows record \(self.expectedSequence - 1): "
                    + "expected sequence \(self.expectedSequence) (a record was deleted, inserted or moved)"
            case .previousHashMismatch:
                return "record \(self.sequence): previous_hash does not match the hash of record "
                    + "\(self.sequence - 1) (records were rewritten or reordered)"
            case .hashMismatch:
                return "record \(self.sequence): hash does not match its contents (the record was edited)"
            }
        }
    }

    /// The sequence of the last record accepted (the anchor's before any).
    public private(set) var lastSequence: Int64
    /// The hash of the last record accepted.
    public private(set) var lastHash: [UInt8]
    /// How many records were accepted.
    public private(set) var checked: Int = 0
    /// The first break, once found; later records are not checked.
    public private(set) var firstBreak: Break?

    public init(anchorSequence: Int64 = 0, anchorHash: [UInt8] = AuditRecord.genesisHash) {
        self.lastSequence = anchorSequence
        self.lastHash = anchorHash
    }

    /// Checks the next record; returns the break if this record is the first one.
    @discardableResult
    public mutating func check(_ record: AuditRecord) -> Break? {
        guard self.firstBreak == nil else { return nil }
        let expected = self.lastSequence + 1
        let problem: Problem?
        if record.sequence != expected {
            problem = .sequenceGap
        } else if record.previousHash != self.lastHash {
            problem = .previousHashMismatch
        } else if record.computedHash() != record.hash {
            problem = .hashMismatch
        } else {
            problem = nil
        }
        if let problem {
            let found = Break(sequence: record.sequence, expectedSequence: expected, problem: problem)
            self.firstBreak = found
            return found
        }
        self.lastSequence = record.sequence
        self.lastHash = record.hash
        self.checked += 1
        return nil
    }
}
