import Testing

@testable import WireContract

struct LZ4FrameTests {
    static func sample(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 / 7) &* 31 &+ $0 % 5) }
    }

    @Test func roundTripsSmallAndLargePayloads() throws {
        for count in [0, 1, 100, 1025, 70_000, 1_000_000] {
            let input = Self.sample(count)
            let compressed = try LZ4Frame.compress(input)
            #expect(Array(compressed.prefix(4)) == [0x04, 0x22, 0x4D, 0x18])  // frame magic
            #expect(try LZ4Frame.decompress(compressed) == input)
        }
    }

    @Test func refusesToInflateBeyondTheBound() throws {
        let bomb = try LZ4Frame.compress([UInt8](repeating: 0, count: 2_000_000))
        #expect(bomb.count < 20_000)
        let error = #expect(throws: WireError.self) { try LZ4Frame.decompress(bomb, maximumBytes: 1_000_000) }
        #expect(error?.code == .decompressedTooLarge)
        #expect(try LZ4Frame.decompress(bomb, maximumBytes: 2_000_000).count == 2_000_000)
    }

    @Test func garbageTruncatedAndTrailingBytesAreTypedErrors() throws {
        let good = try LZ4Frame.compress(Self.sample(5000))
        let cases: [[UInt8]] = [
            [], [1, 2, 3], Array("{\"json\":true}".utf8), Array(good.prefix(good.count - 5)), good + [0],
            Array(good.prefix(7)),
        ]
        for input in cases {
            let error = #expect(throws: WireError.self) { try LZ4Frame.decompress(input) }
            #expect(error?.code == .decompressionFailed)
        }
        var flipped = good
        flipped[flipped.count / 2] ^= 0x55
        #expect(throws: WireError.self) { try LZ4Frame.decompress(flipped) }
    }

    @Test func randomBytesNeverCrashTheDecompressor() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var input: [UInt8] = [0x04, 0x22, 0x4D, 0x18]
            input += (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255) }
            _ = try? LZ4Frame.decompress(input, maximumBytes: 1 << 20)
        }
    }

    /// Interop with Python's `lz4.frame`; runs only where `python3 -c "import lz4"` works
    /// (the CI script pip-installs lz4).
    @Test(.enabled(if: PythonRunner.hasModule("lz4.frame")))
    func interoperatesWithPythonLZ4Frame() throws {
        let input = Self.sample(50_000)
        let theirsOfOurs = try PythonRunner.run(
            "import sys,lz4.frame; sys.stdout.buffer.write(lz4.frame.decompress(sys.stdin.buffer.read()))",
            input: try LZ4Frame.compress(input))
        #expect(theirsOfOurs == input)
        let theirs = try PythonRunner.run(
            "import sys,lz4.frame; sys.stdout.buffer.write(lz4.frame.compress(sys.stdin.buffer.read()))", input: input)
        #expect(try LZ4Frame.decompress(theirs) == input)
    }
}

struct PayloadCipherTests {
    @Test func roundTripsWithNonceAndTagLayout() throws {
        let key = try SampleEvents.encryptionKey()
        let plaintext = Array("{\"a\":1}".utf8)
        let sealed = try PayloadCipher.seal(plaintext, subject: "wazuh.agent.001.status", key: key)
        #expect(sealed.count == plaintext.count + 28)
        #expect(try PayloadCipher.open(sealed, subject: "wazuh.agent.001.status", key: key) == plaintext)
        let again = try PayloadCipher.seal(plaintext, subject: "wazuh.agent.001.status", key: key)
        #expect(Array(again.prefix(12)) != Array(sealed.prefix(12)))  // fresh nonce
    }

    @Test func wrongSubjectWrongKeyAndTamperingFail() throws {
        let key = try SampleEvents.encryptionKey()
        let otherKey = try SampleEvents.encryptionKey(10)
        let sealed = try PayloadCipher.seal(Array("payload".utf8), subject: "wazuh.agent.001.status", key: key)
        let subject = "wazuh.agent.001.status"
        var attempts: [(payload: [UInt8], subject: String, key: EncryptionKey)] = [
            (sealed, "wazuh.agent.002.status", key),
            (sealed, subject, otherKey),
            (Array(sealed.prefix(27)), subject, key),
            ([], subject, key),
        ]
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x01
            attempts.append((tampered, subject, key))
        }
        for attempt in attempts {
            let error = #expect(throws: WireError.self) {
                try PayloadCipher.open(attempt.payload, subject: attempt.subject, key: attempt.key)
            }
            #expect(error?.code == .decryptionFailed)
        }
    }
}
