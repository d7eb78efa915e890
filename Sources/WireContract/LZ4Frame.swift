import CLZ4

/// LZ4 *frame* format (interoperable with `lz4` CLI and Python's `lz4.frame`) through the system liblz4.
///
/// Compressed frames record the content size and a content checksum. Decompression is bounded: it
/// stops with ``WireError/Code/decompressedTooLarge`` as soon as the output would pass the maximum,
/// whatever the frame header claims, so a small hostile frame cannot inflate into gigabytes.
public enum LZ4Frame {
    /// The default bound on decompressed size: 64 MiB.
    public static let defaultMaximumDecompressedBytes = 64 * 1024 * 1024

    /// Compresses `input` as one LZ4 frame.
    public static func compress(_ input: [UInt8]) throws(WireError) -> [UInt8] {
        var preferences = LZ4F_preferences_t()
        preferences.frameInfo.contentSize = UInt64(input.count)
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        let bound = LZ4F_compressFrameBound(input.count, &preferences)
        var output = [UInt8](repeating: 0, count: bound)
        let written = output.withUnsafeMutableBytes { destination in
            input.withUnsafeBytes { source in
                LZ4F_compressFrame(
                    destination.baseAddress, destination.count, source.baseAddress, source.count, &preferences)
            }
        }
        if LZ4F_isError(written) != 0 {
            throw WireError(code: .compressionFailed, message: Self.errorName(written))
        }
        output.removeSubrange(written...)
        return output
    }

    /// Decompresses exactly one LZ4 frame (no trailing bytes), producing at most `maximumBytes` bytes.
    public static func decompress(
        _ input: [UInt8], maximumBytes: Int = defaultMaximumDecompressedBytes
    ) throws(WireError) -> [UInt8] {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else {
            throw WireError(code: .decompressionFailed, message: "cannot create an LZ4 decompression context")
        }
        defer { LZ4F_freeDecompressionContext(context) }

        let chunkSize = 64 * 1024
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var consumed = 0
        var finished = false
        while !finished {
            var sourceSize = input.count - consumed
            var destinationSize = chunkSize
            let hint = chunk.withUnsafeMutableBytes { destination in
                input.withUnsafeBytes { source in
                    LZ4F_decompress(
                        context, destination.baseAddress, &destinationSize, source.baseAddress.map { $0 + consumed },
                        &sourceSize, nil)
                }
            }
            if LZ4F_isError(hint) != 0 {
                throw WireError(code: .decompressionFailed, message: "not a valid LZ4 frame: \(Self.errorName(hint))")
            }
            consumed += sourceSize
            if output.count + destinationSize > maximumBytes {
                throw WireError(
                    code: .decompressedTooLarge, message: "LZ4 frame inflates beyond \(maximumBytes) bytes")
            }
            output.append(contentsOf: chunk[0..<destinationSize])
            if hint == 0 {
                finished = true
            } else if consumed == input.count && destinationSize == 0 {
                throw WireError(code: .decompressionFailed, message: "LZ4 frame is truncated")
            }
        }
        if consumed != input.count {
            throw WireError(code: .decompressionFailed, message: "trailing bytes after the LZ4 frame")
        }
        return output
    }

    private static func errorName(_ code: Int) -> String {
        guard let name = LZ4F_getErrorName(code) else { return "unknown LZ4 error" }
        return String(cString: name)
    }
}
