import GRDB
import GRDBSQLite
import WireContract

/// Appends chained audit records inside one write transaction: the hash of each record (the layout of
/// ``AuditRecord/chainHash(sequence:recordedAt:outboxSeq:subject:messageID:streamSequence:payloadSHA256:previousHash:kind:scratch:into:)``)
/// and multi-row `INSERT`s of up to ``batchSize`` records through cached prepared statements, whose
/// parameters are bound straight from one byte buffer the batch's texts and hashes were copied into
/// (`SQLITE_STATIC`: SQLite reads them during the step, nothing else is copied or boxed).
///
/// This runs once per acknowledged message. Profiles showed, in turn: an ``AuditRecord``, three `Data`
/// copies and a GRDB argument array per record (gone), then the statement's own start and reset per row
/// and a 32-byte array per hash; now a batch of rows costs one statement step and the chaining allocates
/// nothing per record. Call ``finish()`` before the transaction ends: records are inserted by batch.
struct AuditAppender {
    /// Records per `INSERT` (10 parameters each, far below SQLite's parameter limit).
    static let batchSize = 32

    static let batchSQL = insertSQL(rows: batchSize)

    static func insertSQL(rows: Int) -> String {
        // Anonymous parameters, numbered in order (row r's are 10r+1 ... 10r+10): numbered ones (`?12`)
        // make SQLite's parser search its parameter list once per parameter, quadratic in their number,
        // and the statement is compiled again whenever the connection's statements expire (every
        // `PRAGMA query_only` toggle of a read on the shared connection).
        let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows)
        return """
            INSERT INTO audit_log (seq, recorded_at, outbox_seq, subject, message_id, stream_seq, payload_sha256,
                prev_hash, hash, kind)
            VALUES \(placeholders.joined(separator: ", "))
            """
    }

    /// One record waiting for its batch's `INSERT`: integers, and where its fields lie in `arena`.
    private struct Row {
        var sequence: Int64
        var recordedAt: Int64
        var outboxSeq: Int64
        var streamSequence: Int64?
        /// Offsets into the arena: subject, message id, kind (texts), then payload digest, previous hash
        /// and hash (32 bytes each, back to back from `hashes`).
        var subject: Range<Int>
        var messageID: Range<Int>
        var kind: Range<Int>
        var hashes: Int
    }

    /// The last record chained (the one the appender started after, until it appends).
    var head: AuditHead { AuditHead(sequence: self.sequence, hash: self.previous) }
    private var sequence: Int64
    /// The head's hash, and the buffer the next record's hash is written into: the two swap after each
    /// record, so chaining allocates nothing per record.
    private var previous: [UInt8]
    private var next: [UInt8] = []
    private let db: Database
    /// The hash input, reused by every record.
    private var scratch: [UInt8] = []
    /// The batch not inserted yet, and the bytes its parameters are bound from.
    private var rows: [Row] = []
    private var arena: [UInt8] = []
    /// The full-batch statement, looked up once per appender (the cache lookup hashes its long SQL); held,
    /// so it stays alive for the appender's transaction.
    private var batchStatement: Statement?

    /// An appender chaining after `head`, on `db`'s write transaction.
    init(_ db: Database, after head: AuditHead) throws {
        self.sequence = head.sequence
        self.previous = head.hash
        self.db = db
        self.rows.reserveCapacity(Self.batchSize)
    }

    /// Chains `item` after the head; the head moves to it. Inserted with its batch (at the latest by
    /// ``finish()``).
    mutating func append(_ item: AuditedDelivery, at: Int64) throws {
        let sequence = self.sequence + 1
        let stream = item.streamSequence.flatMap { Int64(exactly: $0) }
        AuditRecord.chainHash(
            sequence: sequence, recordedAt: at, outboxSeq: item.seq, subject: item.subject,
            messageID: item.messageID, streamSequence: stream.map { UInt64($0) }, payloadSHA256: item.payloadSHA256,
            previousHash: self.previous, kind: item.kind, scratch: &self.scratch, into: &self.next)
        let subject = self.copy(item.subject)
        let messageID = self.copy(item.messageID)
        let kind = self.copy(item.kind.rawValue)
        let hashes = self.arena.count
        self.arena += item.payloadSHA256
        self.arena += self.previous
        self.arena += self.next
        self.rows.append(
            Row(
                sequence: sequence, recordedAt: at, outboxSeq: item.seq, streamSequence: stream, subject: subject,
                messageID: messageID, kind: kind, hashes: hashes))
        self.sequence = sequence
        swap(&self.previous, &self.next)
        if self.rows.count == Self.batchSize { try self.flush() }
    }

    /// Inserts what is still batched; returns the head.
    mutating func finish() throws -> AuditHead {
        try self.flush()
        return self.head
    }

    private mutating func copy(_ text: String) -> Range<Int> {
        let start = self.arena.count
        var text = text
        text.withUTF8 { self.arena.append(contentsOf: $0) }
        return start..<self.arena.count
    }

    private mutating func flush() throws {
        guard !self.rows.isEmpty else { return }
        let full = self.rows.count == Self.batchSize
        let sql = full ? Self.batchSQL : Self.insertSQL(rows: self.rows.count)
        let held: Statement
        if full, let cached = self.batchStatement {
            held = cached
        } else {
            held = try self.db.cachedStatement(sql: sql)
            if full { self.batchStatement = held }
        }
        let statement = held.sqliteStatement
        let rows = self.rows
        let code = self.arena.withUnsafeBytes { arena -> Int32 in
            for (index, row) in rows.enumerated() {
                let base = Int32(index * 10)
                sqlite3_bind_int64(statement, base + 1, row.sequence)
                sqlite3_bind_int64(statement, base + 2, row.recordedAt)
                sqlite3_bind_int64(statement, base + 3, row.outboxSeq)
                Self.bind(statement, base + 4, text: UnsafeRawBufferPointer(rebasing: arena[row.subject]))
                Self.bind(statement, base + 5, text: UnsafeRawBufferPointer(rebasing: arena[row.messageID]))
                if let stream = row.streamSequence {
                    sqlite3_bind_int64(statement, base + 6, stream)
                } else {
                    sqlite3_bind_null(statement, base + 6)
                }
                for offset in 0..<3 {
                    let start = row.hashes + 32 * offset
                    Self.bind(
                        statement, base + 7 + Int32(offset),
                        blob: UnsafeRawBufferPointer(rebasing: arena[start..<(start + 32)]))
                }
                Self.bind(statement, base + 10, text: UnsafeRawBufferPointer(rebasing: arena[row.kind]))
            }
            let code = sqlite3_step(statement)
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            return code
        }
        self.rows.removeAll(keepingCapacity: true)
        self.arena.removeAll(keepingCapacity: true)
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: self.db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }, sql: sql)
        }
    }

    private static func bind(_ statement: SQLiteStatement, _ index: Int32, text: UnsafeRawBufferPointer) {
        if let base = text.baseAddress, !text.isEmpty {
            sqlite3_bind_text(statement, index, base.assumingMemoryBound(to: CChar.self), Int32(text.count), nil)
        } else {
            // An empty text: SQLite copies the literal '' (a NULL pointer would bind NULL).
            sqlite3_bind_text(statement, index, "", 0, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
    }

    private static func bind(_ statement: SQLiteStatement, _ index: Int32, blob: UnsafeRawBufferPointer) {
        // A digest is always 32 bytes; a zero-length blob is bound as such.
        guard let base = blob.baseAddress, !blob.isEmpty else {
            _ = sqlite3_bind_zeroblob(statement, index, 0)
            return
        }
        sqlite3_bind_blob(statement, index, base, Int32(blob.count), nil)
    }
}
