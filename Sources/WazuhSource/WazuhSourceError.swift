/// An error reading Wazuh's state (global.db, client.keys, wazuh-db's socket, the REST API) or decoding a
/// stored snapshot.
///
/// Every error names the file it concerns and what is wrong with it. Agent data and key material
/// never appear in `description`; `debugDescription` adds the underlying error.
public struct WazuhSourceError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong, independent of the file concerned.
    public enum Code: String, Sendable, Hashable, CustomStringConvertible {
        /// The file does not exist.
        case fileMissing
        /// The process may not open the file (group `wazuh` or root is needed for global.db).
        case permissionDenied
        /// The file is not an SQLite database (garbage, truncated, encrypted).
        case notADatabase
        /// An SQLite database, but without Wazuh's `agent` table or its required columns.
        case notAWazuhDatabase
        /// The path names a directory or another non-regular file.
        case notARegularFile
        /// The database stayed locked by its writer through every retry.
        case busy
        /// Any other SQLite failure while reading.
        case readFailed
        /// inotify could not be set up on the database or its directory.
        case watchFailed
        /// An exported snapshot could not be decoded (wrong magic, version, or truncated).
        case snapshotCorrupt
        /// client.keys could not be read.
        case keysFileUnreadable
        /// wazuh-db's socket does not exist (wazuh-db not running, or another install root).
        case socketMissing
        /// wazuh-db's socket refused the connection or closed it (wazuh-db restarting or overloaded).
        case socketUnavailable
        /// wazuh-db did not answer within the timeout.
        case socketTimeout
        /// A wazuh-db reply broke the framing or did not hold the expected JSON.
        case malformedReply
        /// wazuh-db answered `err` to a read-only request.
        case wazuhDBError
        /// The manager's REST API could not be reached, refused TLS, timed out or answered 5xx.
        case apiUnavailable
        /// The REST API refused the configured credentials (or every token issued for them).
        case apiAuthenticationFailed
        /// The REST API answered something unexpected (a status, or JSON without the agent fields).
        case apiError

        /// The words `description` shows for the code.
        public var description: String {
            switch self {
            case .fileMissing: "file missing"
            case .permissionDenied: "permission denied"
            case .notADatabase: "not an SQLite database"
            case .notAWazuhDatabase: "not a Wazuh global.db"
            case .notARegularFile: "not a regular file"
            case .busy: "database busy"
            case .readFailed: "read failed"
            case .watchFailed: "watch failed"
            case .snapshotCorrupt: "snapshot corrupt"
            case .keysFileUnreadable: "client.keys unreadable"
            case .socketMissing: "wazuh-db socket missing"
            case .socketUnavailable: "wazuh-db unavailable"
            case .socketTimeout: "wazuh-db timed out"
            case .malformedReply: "malformed wazuh-db reply"
            case .wazuhDBError: "wazuh-db error"
            case .apiUnavailable: "Wazuh API unavailable"
            case .apiAuthenticationFailed: "Wazuh API authentication failed"
            case .apiError: "Wazuh API error"
            }
        }
    }

    public var code: Code
    /// The file concerned (global.db, client.keys) or the API's URL, or `nil` for an in-memory snapshot.
    public var path: String?
    /// A human-readable explanation; never contains agent data or secrets.
    public var message: String
    /// The underlying error (SQLite, errno), for `debugDescription`.
    public var underlying: (any Error)?
    public var file: String
    public var line: Int

    public init(
        code: Code, path: String?, message: String, underlying: (any Error)? = nil,
        file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.path = path
        self.message = message
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        if let path {
            return "\(code): \(path): \(message)"
        }
        return "\(code): \(message)"
    }

    public var debugDescription: String {
        var text = "WazuhSourceError(\(description)"
        if let underlying {
            text += ", underlying: \(String(reflecting: underlying))"
        }
        return text + ", at: \(file):\(line))"
    }
}
