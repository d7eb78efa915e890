/// RFC 4648 base32 with the standard alphabet and no padding, as NKeys use it.
///
/// Decoding is strict: only upper-case `A`–`Z` and `2`–`7`, no padding, no whitespace, a length
/// that a whole number of bytes can produce, and zero bits in the unused tail of the last
/// character (the canonical encoding). A key that fails any of these is refused rather than
/// guessed at.
enum Base32 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Maps an ASCII byte to its 5-bit value, or 0xFF when the byte is not in the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() {
            table[Int(byte)] = UInt8(index)
        }
        return table
    }()

    /// Encodes bytes as unpadded base32 text.
    static func encode(_ bytes: [UInt8]) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bitCount = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bitCount += 8
            while bitCount >= 5 {
                bitCount -= 5
                output.append(alphabet[Int((buffer >> UInt32(bitCount)) & 0x1F)])
            }
        }
        if bitCount > 0 {
            output.append(alphabet[Int((buffer << UInt32(5 - bitCount)) & 0x1F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Why a text is not canonical unpadded base32.
    enum DecodingFailure: Error, Equatable {
        /// A character outside the alphabet, at this offset.
        case invalidCharacter(offset: Int)
        /// A length no whole number of bytes encodes to (1, 3 or 6 characters left over).
        case invalidLength
        /// The unused low bits of the last character are not zero.
        case nonCanonicalTrailingBits
    }

    /// Decodes unpadded base32 text.
    static func decode(_ text: some StringProtocol) -> Result<[UInt8], DecodingFailure> {
        let characters = Array(text.utf8)
        switch characters.count % 8 {
        case 1, 3, 6: return .failure(.invalidLength)
        default: break
        }
        var output = [UInt8]()
        output.reserveCapacity(characters.count * 5 / 8)
        var buffer: UInt32 = 0
        var bitCount = 0
        for (offset, character) in characters.enumerated() {
            let value = decodeTable[Int(character)]
            guard value != 0xFF else { return .failure(.invalidCharacter(offset: offset)) }
            buffer = ((buffer << 5) | UInt32(value)) & 0xFFFF
            bitCount += 5
            if bitCount >= 8 {
                bitCount -= 8
                output.append(UInt8((buffer >> UInt32(bitCount)) & 0xFF))
            }
        }
        if bitCount > 0, buffer & ((1 << UInt32(bitCount)) - 1) != 0 {
            return .failure(.nonCanonicalTrailingBits)
        }
        return .success(output)
    }
}
