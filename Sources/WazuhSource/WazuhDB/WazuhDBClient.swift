import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A blocking client of wazuh-db's Unix socket (`queue/db/wdb`) that sends only ``WazuhDBQuery``s.
///
/// Plain POSIX rather than SwiftNIO: one short request and reply at a time from the source's own
/// thread, with a deadline (`SO_RCVTIMEO`/`SO_SNDTIMEO` plus a wall check), is all it needs, and it
/// keeps the source free of an event loop. The framing is ``WazuhDBFrame``, the reply
/// ``WazuhDBReply``; the connection is kept between requests and dropped after any failure (the
/// next request reconnects). Errors are ``WazuhSourceError``s naming the socket path:
/// `socketMissing`, `permissionDenied`, `socketUnavailable` (refused, closed: wazuh-db restarting),
/// `socketTimeout`, `malformedReply`.
///
/// Thread-safe: requests are serialised by an internal lock.
public final class WazuhDBClient: Sendable {
    /// Path of the socket (`/var/ossec/queue/db/wdb`).
    public let path: String
    /// Longest wait for one whole reply (and for connecting).
    public let timeout: Duration

    private struct State {
        var descriptor: Int32 = -1
        var decoder = WazuhDBFrame.Decoder()
        /// Bytes sent and received since creation (for cost metrics).
        var bytesSent = 0
        var bytesReceived = 0
        var requests = 0
    }

    private let state = Mutex(State())

    public init(path: String, timeout: Duration = .seconds(2)) {
        self.path = path
        self.timeout = timeout
    }

    deinit {
        state.withLock { state in
            if state.descriptor >= 0 { _ = closeDescriptor(state.descriptor) }
        }
    }

    /// Requests sent, bytes sent and bytes received so far.
    public var traffic: (requests: Int, bytesSent: Int, bytesReceived: Int) {
        state.withLock { ($0.requests, $0.bytesSent, $0.bytesReceived) }
    }

    /// Sends `query` and returns wazuh-db's reply (an `err` reply is returned, not thrown).
    public func send(_ query: WazuhDBQuery) throws(WazuhSourceError) -> WazuhDBReply {
        try state.withLock { (state: inout State) throws(WazuhSourceError) -> WazuhDBReply in
            do throws(WazuhSourceError) {
                if state.descriptor < 0 { state.descriptor = try connect() }
                let frame = try WazuhDBFrame.encode(query.bytes)
                try write(frame, to: state.descriptor)
                state.bytesSent += frame.count
                state.requests += 1
                let payload = try readPayload(&state)
                return try WazuhDBReply.parse(payload)
            } catch {
                disconnect(&state)
                throw error.naming(path)
            }
        }
    }

    /// Drops the connection (the next request reconnects).
    public func close() {
        state.withLock { disconnect(&$0) }
    }

    private func disconnect(_ state: inout State) {
        if state.descriptor >= 0 { _ = closeDescriptor(state.descriptor) }
        state.descriptor = -1
        state.decoder = WazuhDBFrame.Decoder()
    }

    private func failure(_ code: WazuhSourceError.Code, _ message: String) -> WazuhSourceError {
        WazuhSourceError(code: code, path: path, message: message)
    }

    private func connect() throws(WazuhSourceError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < capacity else {
            throw failure(.socketMissing, "the socket path is longer than \(capacity - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw failure(.socketUnavailable, "socket() failed with errno \(errno)")
        }
        var interval = timeval(
            tv_sec: Int(timeout.components.seconds),
            tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        if interval.tv_sec == 0 && interval.tv_usec == 0 { interval.tv_usec = 1000 }
        _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connectDescriptor(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let code = errno
            _ = closeDescriptor(descriptor)
            switch code {
            case ENOENT, ENOTDIR:
                throw failure(.socketMissing, "the socket does not exist (is wazuh-db running?)")
            case EACCES, EPERM:
                throw failure(
                    .permissionDenied, "may not connect to the socket (the gateway needs group wazuh or root)")
            case ECONNREFUSED:
                throw failure(.socketUnavailable, "wazuh-db refused the connection (restarting?)")
            case EAGAIN, EWOULDBLOCK, ETIMEDOUT:
                throw failure(.socketTimeout, "connecting took longer than \(timeout)")
            case ENOTSOCK:
                throw failure(.socketUnavailable, "the path is not a socket")
            default:
                throw failure(.socketUnavailable, "connect failed with errno \(code)")
            }
        }
        return descriptor
    }

    private func write(_ bytes: [UInt8], to descriptor: Int32) throws(WazuhSourceError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                sendBytes(descriptor, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            let code = errno
            if written < 0 && code == EINTR { continue }
            if written < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                throw failure(.socketTimeout, "wazuh-db did not take the request within \(timeout)")
            }
            throw failure(.socketUnavailable, "wazuh-db closed the connection while the request was sent")
        }
    }

    private func readPayload(_ state: inout State) throws(WazuhSourceError) -> [UInt8] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let payload = try state.decoder.next() { return payload }
            guard clock.now < deadline else {
                throw failure(.socketTimeout, "wazuh-db did not answer within \(timeout)")
            }
            let count = chunk.withUnsafeMutableBytes { raw in
                recv(state.descriptor, raw.baseAddress, raw.count, 0)
            }
            if count > 0 {
                state.bytesReceived += count
                state.decoder.feed(chunk[0..<count])
                continue
            }
            let code = errno
            if count < 0 && code == EINTR { continue }
            if count < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                throw failure(.socketTimeout, "wazuh-db did not answer within \(timeout)")
            }
            let partial = state.decoder.bufferedBytes
            throw failure(
                .socketUnavailable,
                partial > 0
                    ? "wazuh-db closed the connection in the middle of a reply (restarting?)"
                    : "wazuh-db closed the connection without answering (restarting?)")
        }
    }
}

/// `close(2)` and `connect(2)`, outside the class whose methods share their names.
private func closeDescriptor(_ descriptor: Int32) -> Int32 { close(descriptor) }

private func connectDescriptor(
    _ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
) -> Int32 {
    connect(descriptor, address, length)
}

extension WazuhSourceError {
    /// This error, naming `path` when it names no file yet (the frame and reply parsers know no path).
    func naming(_ path: String) -> WazuhSourceError {
        guard self.path == nil else { return self }
        var named = self
        named.path = path
        return named
    }
}

private func sendBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ flags: Int32) -> Int {
    send(descriptor, bytes, count, flags)
}
