import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where log lines go. Each call receives one complete line including its trailing newline.
/// `standardError` / `standardOutput` write each line with a single `write(2)` under a lock, so
/// lines from concurrent tasks never interleave; tests pass a closure that captures lines.
public struct LogOutput: Sendable {
    private let writeLine: @Sendable (String) -> Void

    public init(_ writeLine: @escaping @Sendable (String) -> Void) {
        self.writeLine = writeLine
    }

    func write(_ line: String) {
        self.writeLine(line)
    }

    /// Lines to the process's standard error (the default for the daemon: journald reads it).
    public static let standardError = LogOutput { FileDescriptorWriter.write($0, to: 2) }
    /// Lines to the process's standard output.
    public static let standardOutput = LogOutput { FileDescriptorWriter.write($0, to: 1) }
}

private enum FileDescriptorWriter {
    private static let lock = NSLock()

    static func write(_ line: String, to descriptor: Int32) {
        var bytes = Array(line.utf8)
        self.lock.lock()
        defer { self.lock.unlock() }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { buffer in
                #if canImport(Glibc)
                    Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #else
                    Darwin.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}
