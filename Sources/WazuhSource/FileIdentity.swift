#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Device and inode of a file: a changed identity means the file was replaced.
struct FileIdentity: Equatable, Sendable {
    var device: UInt64
    var inode: UInt64

    /// Stats `path`, mapping failures to typed errors.
    init(checking path: String) throws(WazuhSourceError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR:
                throw WazuhSourceError(code: .fileMissing, path: path, message: "the database file does not exist")
            case EACCES, EPERM:
                throw WazuhSourceError(
                    code: .permissionDenied, path: path,
                    message: "cannot reach the database file (the gateway needs group wazuh or root)")
            default:
                throw WazuhSourceError(code: .readFailed, path: path, message: "stat failed with errno \(code)")
            }
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw WazuhSourceError(
                code: .notARegularFile, path: path, message: "the database path is not a regular file")
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// Opens and closes `path` to tell a permission problem apart from other open failures.
    static func checkReadable(_ path: String) throws(WazuhSourceError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == EACCES || code == EPERM {
                throw WazuhSourceError(
                    code: .permissionDenied, path: path,
                    message: "cannot open the database file for reading (the gateway needs group wazuh or root)")
            }
            throw WazuhSourceError(code: .readFailed, path: path, message: "open failed with errno \(code)")
        }
        close(fd)
    }
}
