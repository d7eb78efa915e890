import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Watches global.db with inotify and tells when it may have changed.
///
/// wazuh-db writes global.db with a rollback journal: `global.db-journal` appears when a write
/// transaction starts and is deleted when it commits. The deletion of the journal (and writes,
/// creation, replacement or attribute changes of global.db itself) are therefore the moments
/// worth reading; the creation or growth of the journal alone is ignored (nothing is committed
/// yet). Both the file and its directory are watched, so a replaced file (new inode) is noticed
/// and the file watch re-armed.
///
/// Bursts are coalesced: a signal is sent once no relevant event has arrived for `debounce` (zero
/// by default: as soon as the events at hand include a relevant one, since the journal's deletion
/// already marks a finished commit), at the latest `maximumDelay` after the first event of a burst,
/// and never sooner than `minimumGap` after the previous signal. A poll tick is sent every `pollInterval` as a safety net (and carries
/// the whole source when inotify is unavailable). Signals that the consumer has not taken yet
/// are merged (the stream buffers only the newest).
///
/// Linux only. The watch runs on one dedicated thread started by ``signals()``; cancelling the
/// consuming task or dropping the stream wakes that thread, which closes its descriptors and exits.
public struct DatabaseChangeWatcher: Sendable {
    /// Timing of the watcher.
    public struct Configuration: Sendable {
        /// Path of global.db.
        public var databasePath: String
        /// A poll tick is emitted after this long without any other signal.
        public var pollInterval: Duration
        /// Quiet time that ends a burst of file events (zero: signal at once).
        public var debounce: Duration
        /// Upper bound on how long a continuous burst can postpone its signal.
        public var maximumDelay: Duration
        /// Minimum time between two signals (bounds the read rate under a storm).
        public var minimumGap: Duration

        public init(
            databasePath: String, pollInterval: Duration = .seconds(5), debounce: Duration = .zero,
            maximumDelay: Duration = .milliseconds(50), minimumGap: Duration = .milliseconds(10)
        ) {
            self.databasePath = databasePath
            self.pollInterval = pollInterval
            self.debounce = debounce
            self.maximumDelay = maximumDelay
            self.minimumGap = minimumGap
        }
    }

    /// Why the watcher suggests a read.
    public enum Signal: Sendable, Hashable {
        /// A relevant file event (commit, write, replacement) was observed.
        case fileChanged
        /// The poll interval elapsed without any file event.
        case pollTick
    }

    public let configuration: Configuration
    private let logger: Logger

    public init(
        configuration: Configuration,
        logger: Logger = Logger(label: "wazuh.source", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Starts watching and returns the signals. Iterate from one task at a time.
    public func signals() -> AsyncStream<Signal> {
        let (stream, continuation) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .bufferingNewest(1))
        let wake = WakeDescriptor()
        continuation.onTermination = { _ in wake.signal() }
        let configuration = self.configuration
        let logger = self.logger
        // The watches are armed here, before returning, so that no commit made after this call
        // (for instance right after the caller's first read) can go unnoticed.
        var armed = WatchLoop(configuration: configuration, logger: logger, wake: wake)
        armed.start()
        let loop = armed
        let thread = Thread {
            nameCurrentThread("wazuh-db-watch")
            var running = loop
            running.run { continuation.yield($0) }
            continuation.finish()
        }
        thread.start()
        return stream
    }
}

/// A pipe that wakes the watch thread; closed by that thread, written only while open.
private final class WakeDescriptor: Sendable {
    private struct Ends {
        var read: Int32 = -1
        var write: Int32 = -1
    }

    private let ends: Mutex<Ends>

    init() {
        var fds: [Int32] = [-1, -1]
        var ends = Ends()
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            }
            ends.read = fds[0]
            ends.write = fds[1]
        }
        self.ends = Mutex(ends)
    }

    /// The end the watch thread polls (-1 if the pipe could not be created).
    var fd: Int32 { ends.withLock { $0.read } }

    func signal() {
        ends.withLock { ends in
            guard ends.write >= 0 else { return }
            var one: UInt8 = 1
            _ = write(ends.write, &one, 1)
        }
    }

    func close() {
        ends.withLock { ends in
            if ends.read >= 0 { Glibc.close(ends.read) }
            if ends.write >= 0 { Glibc.close(ends.write) }
            ends = Ends()
        }
    }
}

/// The watch thread's state and loop.
private struct WatchLoop: Sendable {
    let configuration: DatabaseChangeWatcher.Configuration
    let logger: Logger
    let wake: WakeDescriptor
    let directory: String
    let fileName: String
    let journalName: String
    let journalPath: String
    let walName: String
    var inotify: Int32 = -1
    var directoryWatch: Int32 = -1
    var fileWatch: Int32 = -1

    init(configuration: DatabaseChangeWatcher.Configuration, logger: Logger, wake: WakeDescriptor) {
        self.configuration = configuration
        self.logger = logger
        self.wake = wake
        let path = configuration.databasePath
        if let slash = path.lastIndex(of: "/") {
            let dir = String(path[..<slash])
            directory = dir.isEmpty ? "/" : dir
            fileName = String(path[path.index(after: slash)...])
        } else {
            directory = "."
            fileName = path
        }
        journalName = fileName + "-journal"
        journalPath = path + "-journal"
        walName = fileName + "-wal"
    }

    /// Creates the inotify instance and arms the watches (on the caller's thread).
    mutating func start() {
        inotify = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if inotify < 0 {
            logger.warning(
                "inotify unavailable, polling only",
                metadata: ["wazuh.path": "\(configuration.databasePath)", "wazuh.errno": "\(errno)"])
        }
        armWatches()
    }

    /// The watch loop, on the watch thread; returns once woken through `wake`, closing every descriptor.
    mutating func run(emit: (DatabaseChangeWatcher.Signal) -> Void) {
        defer {
            if inotify >= 0 { Glibc.close(inotify) }
            wake.close()
        }
        let clock = ContinuousClock()
        var lastSignal = clock.now - configuration.minimumGap
        var nextPoll = clock.now + configuration.pollInterval
        var burstStart: ContinuousClock.Instant?
        var lastEvent = clock.now
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let now = clock.now
            var deadline = nextPoll
            if let burstStart {
                let due = min(lastEvent + configuration.debounce, burstStart + configuration.maximumDelay)
                deadline = min(deadline, max(due, lastSignal + configuration.minimumGap))
            }
            var fds = [
                pollfd(fd: wake.fd, events: Int16(POLLIN), revents: 0),
                pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
            ]
            let result = poll(&fds, inotify >= 0 ? 2 : 1, Self.milliseconds(until: deadline, from: now))
            if result < 0 && errno != EINTR {
                logger.error("poll failed, watcher stops", metadata: ["wazuh.errno": "\(errno)"])
                return
            }
            if fds[0].revents != 0 { return }
            if inotify >= 0, fds[1].revents & Int16(POLLIN) != 0, drainEvents(&buffer) {
                if burstStart == nil { burstStart = clock.now }
                lastEvent = clock.now
            }
            let after = clock.now
            if let start = burstStart,
                after - lastEvent >= configuration.debounce || after - start >= configuration.maximumDelay,
                after - lastSignal >= configuration.minimumGap
            {
                burstStart = nil
                lastSignal = after
                nextPoll = after + configuration.pollInterval
                emit(.fileChanged)
            } else if after >= nextPoll {
                armWatches()
                lastSignal = after
                nextPoll = after + configuration.pollInterval
                emit(.pollTick)
            }
        }
    }

    /// (Re-)adds the watches that are missing; failures leave polling in charge.
    mutating func armWatches() {
        guard inotify >= 0 else { return }
        if directoryWatch < 0 {
            let mask = UInt32(
                IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_ATTRIB)
            directoryWatch = inotify_add_watch(inotify, directory, mask)
        }
        if fileWatch < 0 {
            let mask = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
            fileWatch = inotify_add_watch(inotify, configuration.databasePath, mask)
        }
    }

    /// Reads every pending inotify event; returns whether any of them suggests a read.
    ///
    /// Writes to the database file while its rollback journal exists are a commit (or a cache
    /// spill) in progress: the writer still holds its lock, so they are not worth a read yet; the
    /// journal's deletion will follow and is the signal. Writes without a journal (another journal
    /// mode, a restore tool) are relevant at once.
    mutating func drainEvents(_ buffer: inout [UInt8]) -> Bool {
        var relevant = false
        var databaseWritten = false
        var rearm = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { raw in
                var offset = 0
                let headerSize = 16
                while offset + headerSize <= count {
                    let wd = raw.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let nameLength = Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    var name = ""
                    if nameLength > 0, offset + headerSize + nameLength <= count {
                        let bytes = raw[(offset + headerSize)..<(offset + headerSize + nameLength)]
                        name = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    offset += headerSize + nameLength
                    if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                        relevant = true
                    } else if wd == fileWatch {
                        if mask & UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) != 0 {
                            if mask & UInt32(IN_IGNORED) != 0 { fileWatch = -1 }
                            rearm = true
                            relevant = true
                        } else if mask & UInt32(IN_MODIFY | IN_CLOSE_WRITE) != 0 {
                            databaseWritten = true
                        } else {
                            relevant = true
                        }
                    } else if wd == directoryWatch {
                        if mask & UInt32(IN_IGNORED) != 0 {
                            directoryWatch = -1
                        } else if name == fileName {
                            if mask & UInt32(IN_MODIFY | IN_CLOSE_WRITE) != 0 {
                                databaseWritten = true
                            } else {
                                relevant = true
                            }
                            if mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0 { rearm = true }
                        } else if name == journalName {
                            relevant = relevant || mask & UInt32(IN_DELETE | IN_MOVED_FROM) != 0
                        } else if name == walName {
                            relevant = relevant || mask & UInt32(IN_MODIFY) != 0
                        }
                    }
                }
            }
        }
        if databaseWritten && !relevant {
            var info = stat()
            relevant = stat(journalPath, &info) != 0
        }
        if rearm {
            if fileWatch >= 0 {
                inotify_rm_watch(inotify, fileWatch)
                fileWatch = -1
            }
            armWatches()
        }
        return relevant
    }

    static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        guard deadline > now else { return 0 }
        let (seconds, attoseconds) = (deadline - now).components
        let total = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: total)
    }
}

/// Names the calling OS thread (visible in `ps -L`, `top -H`, /proc) through /proc/thread-self/comm;
/// best effort, as Glibc's `pthread_setname_np` is not visible to Swift.
private func nameCurrentThread(_ name: String) {
    let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let bytes = Array(name.utf8.prefix(15))
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
}
