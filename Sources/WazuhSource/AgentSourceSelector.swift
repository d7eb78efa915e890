import Foundation
import Logging
import Synchronization

/// Where agent status is read from.
public enum AgentStatusSource: String, Sendable, Hashable, CaseIterable {
    /// global.db, read-only, right after each commit (10–60 s behind wazuh-db on a busy manager).
    case file
    /// wazuh-db's socket `queue/db/wdb`: wazuh-db's own view, its open transaction included.
    case wazuhDB = "wazuh-db"
}

/// Chooses, read by read, between wazuh-db's socket and global.db, and never lets a switch repeat
/// or reverse a transition.
///
/// - `file`: only global.db. `wazuh-db`: only the socket (failures are retried, never hidden by the
///   file). `auto`: the socket whenever it answers, else the file; every read tries the socket first,
///   so the selector goes back to it as soon as wazuh-db answers again.
/// - Socket → file: the socket showed wazuh-db's uncommitted state, which the file lacks until the
///   next commit. Diffing the file against it would report every uncommitted transition reversed
///   (and again when it lands). So after a socket read the file is used only once wazuh-db committed
///   after that read — SQLite's file change counter (header offset 24, bumped by every commit in
///   rollback-journal mode) differs from its value read right after the socket reply; wazuh-db
///   answers and commits on one connection, so such a commit holds everything the reply showed —
///   or once `catchUpLimit` (longer than wazuh-db's `commit_time_max`) passed: wazuh-db is then
///   taken to have lost its transaction (a crash), and the file is the truth.
/// - The same holds across a restart: a journaled snapshot read through the socket carries its
///   ``SnapshotOrigin`` and ``resume(after:)`` makes the first file read wait the same way.
/// - File → socket needs no care: the socket shows the committed state plus more.
final class AgentSourceSelector: Sendable {
    /// How reads are chosen.
    enum Mode: Sendable, Hashable {
        case only(AgentStatusSource)
        case auto
    }

    /// What one attempt produced.
    enum Outcome: Sendable {
        /// `socketError`: why the socket was not used for a file read (`nil` for socket reads or `file` mode).
        case read(
            AgentSnapshot, AgentStatusSource, file: GlobalDatabaseReader.Read?, socket: WazuhDBSocketReader.Read?,
            socketError: WazuhSourceError?)
        /// The socket failed (or is not used) and the file is still behind what the socket showed:
        /// read nothing yet.
        case waitingForCommit(socketError: WazuhSourceError?)
        case failed(WazuhSourceError, socketError: WazuhSourceError?)
    }

    private struct State {
        var active: AgentStatusSource?
        /// Wall time right after the last successful socket read, until the file has caught up.
        var socketAheadSince: Date?
        /// global.db's change counter read right after that socket read (`nil`: unreadable then).
        var counterAtSocketRead: UInt32?
        var socketFailing = false
        var waitingLogged = false
        /// global.db's change counter after the previous read, when that read was a socket read.
        var counterAtPreviousSocketRead: UInt32?
    }

    let mode: Mode
    let file: GlobalDatabaseReader
    let socket: WazuhDBSocketReader?
    let catchUpLimit: Duration
    private let logger: Logger
    private let state = Mutex(State())

    init(mode: Mode, file: GlobalDatabaseReader, socket: WazuhDBSocketReader?, catchUpLimit: Duration, logger: Logger) {
        self.mode = socket == nil ? .only(.file) : mode
        self.file = file
        self.socket = socket
        self.catchUpLimit = catchUpLimit
        self.logger = logger
    }

    /// The source of the last successful read.
    var active: AgentStatusSource? { state.withLock { $0.active } }

    func read() -> Outcome {
        var socketError: WazuhSourceError?
        if mode != .only(.file), let socket {
            do throws(WazuhSourceError) {
                var read = try socket.read()
                let now = Date()
                let counter = Self.changeCounter(file.configuration.path)
                let previous = state.withLock { state -> (AgentStatusSource?, Bool, Bool) in
                    let unchanged = counter != nil && state.counterAtPreviousSocketRead == counter
                    defer {
                        state.counterAtPreviousSocketRead = counter
                        state.active = .wazuhDB
                        state.socketAheadSince = now
                        state.counterAtSocketRead = counter
                        state.socketFailing = false
                        state.waitingLogged = false
                    }
                    return (state.active, state.socketFailing, unchanged)
                }
                if previous.0 != .wazuhDB {
                    logger.notice(
                        "agent status source is wazuh-db's socket",
                        metadata: [
                            "wazuh.source": "wazuh-db", "wazuh.previous_source": "\(previous.0?.rawValue ?? "none")",
                            "wazuh.socket": "\(socket.path)",
                        ])
                } else if previous.1 {
                    logger.notice("wazuh-db's socket answers again", metadata: ["wazuh.socket": "\(socket.path)"])
                }
                // No commit since the previous socket read: whatever this read shows that one did not
                // is not in global.db yet.
                read.aheadOfFile = previous.2
                var snapshot = read.snapshot
                snapshot.origin = SnapshotOrigin(source: .wazuhDB, fileChangeCounter: counter, readAt: now)
                return .read(snapshot, .wazuhDB, file: nil, socket: read, socketError: nil)
            } catch {
                socketError = error
                let first = state.withLock { state -> Bool in
                    defer {
                        state.socketFailing = true
                        state.counterAtPreviousSocketRead = nil
                    }
                    return !state.socketFailing
                }
                let metadata: Logger.Metadata = ["wazuh.socket": "\(socket.path)", "wazuh.error": "\(error)"]
                if first, mode == .only(.wazuhDB) || active == .wazuhDB || error.code == .permissionDenied {
                    logger.warning(
                        mode == .auto
                            ? "reading wazuh-db's socket failed; falling back to global.db"
                            : "reading wazuh-db's socket failed, will retry", metadata: metadata)
                } else if first {
                    logger.notice("wazuh-db's socket unavailable; reading global.db", metadata: metadata)
                } else {
                    logger.debug("wazuh-db's socket unavailable", metadata: metadata)
                }
                if mode == .only(.wazuhDB) { return .failed(error, socketError: error) }
            }
        }
        let ahead = state.withLock { state in state.socketAheadSince.map { ($0, state.counterAtSocketRead) } }
        if let (since, counter) = ahead {
            let committed =
                counter.map { $0 != Self.changeCounter(file.configuration.path) }
                ?? Self.modified(file.configuration.path, after: since)
            if !committed, Date().timeIntervalSince(since) < seconds(catchUpLimit) {
                let log = state.withLock { state -> Bool in
                    defer { state.waitingLogged = true }
                    return !state.waitingLogged
                }
                if log {
                    logger.notice(
                        "waiting for wazuh-db to commit what its socket showed before reading global.db",
                        metadata: ["wazuh.path": "\(file.configuration.path)", "wazuh.limit": "\(catchUpLimit)"])
                }
                return .waitingForCommit(socketError: socketError)
            }
        }
        do throws(WazuhSourceError) {
            let read = try file.read()
            let previous = state.withLock { state -> AgentStatusSource? in
                defer {
                    state.counterAtPreviousSocketRead = nil
                    state.active = .file
                    state.socketAheadSince = nil
                }
                return state.active
            }
            if previous == .wazuhDB {
                logger.notice(
                    "agent status source is global.db",
                    metadata: [
                        "wazuh.source": "file", "wazuh.previous_source": "wazuh-db",
                        "wazuh.path": "\(file.configuration.path)",
                    ])
            }
            return .read(read.snapshot, .file, file: read, socket: nil, socketError: socketError)
        } catch {
            return .failed(error, socketError: socketError)
        }
    }

    /// Treats the file as behind what the socket showed at `origin` (a journaled snapshot read through
    /// the socket, before a restart): the file is read only once wazuh-db committed after it, or
    /// `catchUpLimit` after it, exactly as after a live socket → file switch. No effect once any read
    /// succeeded, or for a snapshot the file read.
    func resume(after origin: SnapshotOrigin) {
        guard origin.source == .wazuhDB else { return }
        state.withLock { state in
            guard state.active == nil, state.socketAheadSince == nil else { return }
            state.socketAheadSince = origin.readAt
            state.counterAtSocketRead = origin.fileChangeCounter
        }
    }

    /// SQLite's file change counter (bytes 24–27 of the header, big-endian), `nil` when unreadable.
    static func changeCounter(_ path: String) -> UInt32? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 4, 24) }
        guard count == 4 else { return nil }
        return bytes.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// `true` when `path` was modified after `date`.
    static func modified(_ path: String, after date: Date) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        let modified = TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9
        return modified > date.timeIntervalSince1970
    }

    private func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds) + TimeInterval(duration.components.attoseconds) / 1e18
    }
}
