import GRDB
import GRDBSQLite
import WireContract

/// Appends chained audit records inside one write transaction: the hash of each record (the layout of
/// ``AuditRecord/chainHash(sequence:recordedAt:outboxSeq:subject:messageID:streamSequence:payloadSHA256:previousHash:kind:scratch:)``)
/// and one `INSERT` through a prepared statement whose parameters are bound straight from the record's
/// buffers (`SQLITE_STATIC`: SQLite reads them during the step, nothing is copied or boxed).
///
/// This runs once per acknowledged message; the profile of the version that built an ``AuditRecord``,
/// three `Data` copies and a GRDB argument array per record showed those, not SQLite, as its cost.
struct AuditAppender {
    static let insertSQL = """
        INSERT INTO audit_log (seq, recorded_at, outbox_seq, subject, message_id, stream_seq, payload_sha256,
            prev_hash, hash, kind)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    private(set) var head: AuditHead
    private let statement: SQLiteStatement
    private let connection: SQLiteConnection?
    /// The hash input, reused by every record.
    private var scratch: [UInt8] = []

    /// An appender chaining after `head`, on `db`'s write transaction.
    init(_ db: Database, after head: AuditHead) throws {
        self.head = head
        self.statement = try db.cachedStatement(sql: Self.insertSQL).sqliteStatement
        self.connection = db.sqliteConnection
    }

    /// Chains `item` after the head and inserts it; the head moves to it.
    mutating func append(_ item: AuditedDelivery, at: Int64) throws {
        let sequence = self.head.sequence + 1
        let stream = item.streamSequence.flatMap { Int64(exactly: $0) }
        let hash = AuditRecord.chainHash(
            sequence: sequence, recordedAt: at, outboxSeq: item.seq, subject: item.subject,
            messageID: item.messageID, streamSequence: stream.map { UInt64($0) }, payloadSHA256: item.payloadSHA256,
            previousHash: self.head.hash, kind: item.kind, scratch: &self.scratch)
        let statement = self.statement
        var subject = item.subject
        var messageID = item.messageID
        var kind = item.kind.rawValue
        let code = subject.withUTF8 { subject in
            messageID.withUTF8 { messageID in
                kind.withUTF8 { kind in
                    item.payloadSHA256.withUnsafeBytes { payload in
                        self.head.hash.withUnsafeBytes { previous in
                            hash.withUnsafeBytes { hash -> Int32 in
                                sqlite3_bind_int64(statement, 1, sequence)
                                sqlite3_bind_int64(statement, 2, at)
                                sqlite3_bind_int64(statement, 3, item.seq)
                                Self.bind(statement, 4, text: subject)
                                Self.bind(statement, 5, text: messageID)
                                if let stream {
                                    sqlite3_bind_int64(statement, 6, stream)
                                } else {
                                    sqlite3_bind_null(statement, 6)
                                }
                                Self.bind(statement, 7, blob: payload)
                                Self.bind(statement, 8, blob: previous)
                                Self.bind(statement, 9, blob: hash)
                                Self.bind(statement, 10, text: kind)
                                let code = sqlite3_step(statement)
                                sqlite3_reset(statement)
                                sqlite3_clear_bindings(statement)
                                return code
                            }
                        }
                    }
                }
            }
        }
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code),
                message: self.connection.map { String(cString: sqlite3_errmsg($0)) }, sql: Self.insertSQL)
        }
        self.head = AuditHead(sequence: sequence, hash: hash)
    }

    private static func bind(_ statement: SQLiteStatement, _ index: Int32, text: UnsafeBufferPointer<UInt8>) {
        _ = text.withMemoryRebound(to: CChar.self) { characters in
            if let base = characters.baseAddress {
                sqlite3_bind_text(statement, index, base, Int32(characters.count), nil)
            } else {
                // An empty text has no buffer: SQLite copies the literal '' (a NULL pointer would bind NULL).
                sqlite3_bind_text(statement, index, "", 0, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            }
        }
    }

    private static func bind(_ statement: SQLiteStatement, _ index: Int32, blob: UnsafeRawBufferPointer) {
        // An empty digest never happens (always 32 bytes); a zero-length blob is bound as such.
        guard let base = blob.baseAddress else {
            _ = sqlite3_bind_zeroblob(statement, index, 0)
            return
        }
        sqlite3_bind_blob(statement, index, base, Int32(blob.count), nil)
    }
}
