import Foundation
import Synchronization
import WazuhSource

#if canImport(Glibc)
    import Glibc
#endif

/// A stand-in for wazuh-db that misbehaves on purpose: for each request it reads it answers with
/// the raw bytes `respond` returns (`nil`: close the connection; an empty array: never answer).
final class ScriptedWazuhDB: Sendable {
    let path: String
    private let listener: Int32
    private let respond: @Sendable (String) -> [UInt8]?
    private let descriptors = Mutex<[Int32]>([])
    private let stopped = Mutex(false)

    init(path: String, respond: @escaping @Sendable (String) -> [UInt8]?) throws {
        self.path = path
        self.respond = respond
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let bound = withUnixSocketAddress(path) { bind(listener, $0, $1) }
        guard bound == 0, listen(listener, 8) == 0 else { throw TestTimeout(what: "binding \(path)") }
        descriptors.withLock { $0.append(listener) }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Closes everything and removes the socket file, once (a later call, or deinit, does nothing:
    /// a new stand-in may have bound the same path meanwhile).
    func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        let all = descriptors.withLock { list in
            defer { list = [] }
            return list
        }
        for descriptor in all { shutdown(descriptor, Int32(SHUT_RDWR)) }
        unlink(path)
    }

    deinit { stop() }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            descriptors.withLock { $0.append(client) }
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { _ = close(client) }
        var decoder = WazuhDBFrame.Decoder()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            decoder.feed(buffer[0..<count])
            while let request = try? decoder.next() {
                guard let reply = respond(String(decoding: request, as: UTF8.self)) else { return }
                if reply.isEmpty { continue }
                _ = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    /// A well-formed frame around `text`.
    static func frame(_ text: String) -> [UInt8] { (try? WazuhDBFrame.encode(Array(text.utf8))) ?? [] }
}
