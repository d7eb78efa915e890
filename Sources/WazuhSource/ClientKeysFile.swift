#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The registered agents listed in Wazuh's `etc/client.keys` (`ID NAME IP KEY` per line).
///
/// Lines starting with `#` or a space are comments. A removed agent may remain with its name
/// prefixed by `!` or `#`; such entries have ``Entry/isRemoved`` set and the marker stripped.
///
/// The KEY column is a secret: it is never turned into a value. The file is read in fixed-size
/// chunks into one reusable buffer, each line is parsed up to its third field, and the buffer is
/// overwritten with zeros before it is released.
public struct ClientKeysFile: Sendable, Hashable {
    /// One agent line, without its key.
    public struct Entry: Sendable, Hashable {
        public var id: Int
        /// The name without a removal marker.
        public var name: String
        /// `any`, an address or a CIDR; `nil` when the line has no IP field.
        public var ip: String?
        /// The name carried a removal marker (`!` or `#`).
        public var isRemoved: Bool

        public init(id: Int, name: String, ip: String?, isRemoved: Bool) {
            self.id = id
            self.name = name
            self.ip = ip
            self.isRemoved = isRemoved
        }
    }

    /// Entries in file order; malformed lines (no numeric id, no name) are skipped.
    public var entries: [Entry]
    /// Lines that were neither comments nor parseable entries.
    public var malformedLines: Int

    /// Parses client.keys content (a test or an in-memory copy); prefer ``init(path:)`` for the real file.
    public init(parsing bytes: some Collection<UInt8>) {
        var parser = Parser()
        var line: [UInt8] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                parser.parse(line: line[...])
                Self.wipe(&line)
            } else {
                line.append(byte)
            }
        }
        parser.parse(line: line[...])
        Self.wipe(&line)
        entries = parser.entries
        malformedLines = parser.malformedLines
    }

    /// Reads and parses the file at `path`.
    /// - Throws: ``WazuhSourceError`` `.fileMissing`, `.permissionDenied` or `.keysFileUnreadable`.
    public init(path: String) throws(WazuhSourceError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT:
                throw WazuhSourceError(code: .fileMissing, path: path, message: "client.keys does not exist")
            case EACCES, EPERM:
                throw WazuhSourceError(code: .permissionDenied, path: path, message: "cannot open client.keys")
            default:
                throw WazuhSourceError(
                    code: .keysFileUnreadable, path: path, message: "open failed with errno \(code)")
            }
        }
        defer { close(fd) }
        var parser = Parser()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var line: [UInt8] = []
        line.reserveCapacity(256)
        defer {
            Self.wipe(&chunk)
            Self.wipe(&line)
        }
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw WazuhSourceError(
                    code: .keysFileUnreadable, path: path, message: "read failed with errno \(errno)")
            }
            if count == 0 { break }
            for index in 0..<count {
                let byte = chunk[index]
                if byte == UInt8(ascii: "\n") {
                    parser.parse(line: line[...])
                    Self.wipe(&line)
                    line.removeAll(keepingCapacity: true)
                } else {
                    line.append(byte)
                }
            }
        }
        parser.parse(line: line[...])
        entries = parser.entries
        malformedLines = parser.malformedLines
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { memset(base, 0, buffer.count) }
        }
        bytes.removeAll(keepingCapacity: true)
    }

    private struct Parser {
        var entries: [Entry] = []
        var malformedLines = 0

        /// Parses `ID NAME IP` and stops there: the key field is never looked at.
        mutating func parse(line: ArraySlice<UInt8>) {
            var line = line
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            guard let first = line.first else { return }
            if first == UInt8(ascii: "#") || first == UInt8(ascii: " ") { return }
            var fields: [ArraySlice<UInt8>] = []
            var rest = line
            while fields.count < 3 {
                rest = rest.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                guard !rest.isEmpty else { break }
                let field = rest.prefix { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
                fields.append(field)
                rest = rest.dropFirst(field.count)
            }
            guard fields.count >= 2, !fields[0].isEmpty, fields[0].count <= 9,
                fields[0].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let id = Int(String(decoding: fields[0], as: UTF8.self))
            else {
                malformedLines += 1
                return
            }
            var name = fields[1]
            let removed = name.first == UInt8(ascii: "!") || name.first == UInt8(ascii: "#")
            if removed { name = name.dropFirst() }
            entries.append(
                Entry(
                    id: id, name: String(decoding: name, as: UTF8.self),
                    ip: fields.count > 2 ? String(decoding: fields[2], as: UTF8.self) : nil, isRemoved: removed))
        }
    }
}
