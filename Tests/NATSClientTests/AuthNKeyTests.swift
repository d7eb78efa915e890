import Testing

@testable import NATSClient

/// Vectors produced by the reference implementation (`pip install nkeys`, nkeys 0.2.1): seed,
/// public key, and the base64url signature of the nonce `abc-nonce_XYZ`.
private let referenceVectors: [(seed: String, publicKey: String, nonceSignature: String, type: NKeyType)] = [
    (
        "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y",
        "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK",
        "LDUCJ2ppL8e5oRM-3WNq2dkuoUPc37fDlPJ6Lhd08Hx-zdgBGNTEK2rJrkqf6AETjY3qGBeFFYG4ddJmc-7JAA",
        .user
    ),
    (
        "SAALJSHP6QMHKUW6BRZEXUJE4DJKQLOFWVJ5AJBBAHADYYVEPBB5KYUVOU",
        "ACGLM7MB7P3T6MIJY5NGIGAT4ILQ4RFVUKIICAEGOPY7QCYYMMEJVUNI",
        "D9UpNC85kYipE5VBaj3a5YS4m9mjjn94Ye4EyN-NjAgo5ST74-HLQNxKUuZ_rJ-gDE9bPc4ZTlQVMwHI3moFCw",
        .account
    ),
    (
        "SOACPSMW3UDQGXPL3ABJUNJLBF7WD6D2A4JKVAWVY7ORY4KDE662CBUMEA",
        "OCXUYA7LZJ4CYOOPK6UGKSHHZ7BJEFDRVVFWOQ2VGIAVNXXHBAO7BMIQ",
        "wEIYtnE9NV0hRb76NV2qVGwGeml3gCzADhFSOdtUsVOEihCAQa8DDz-ht8Xn8BlRioMR7AzJcJJPxFo_nKwTDg",
        .operator
    ),
]

struct AuthNKeyTests {
    @Test func referenceSeedsDecodeToTheReferencePublicKeysAndSignatures() throws {
        for vector in referenceVectors {
            let keyPair = try NKeyPair(seed: vector.seed)
            #expect(keyPair.type == vector.type)
            #expect(keyPair.publicKey == vector.publicKey)
            #expect(keyPair.seed == vector.seed)
            #expect(try keyPair.signNonce("abc-nonce_XYZ") == vector.nonceSignature)
        }
    }

    @Test func seedWithSurroundingWhitespaceAndCRLFIsAccepted() throws {
        let keyPair = try NKeyPair(seed: "  \(referenceVectors[0].seed)\r\n")
        #expect(keyPair.publicKey == referenceVectors[0].publicKey)
    }

    @Test func generatedKeysRoundTripThroughTheirSeedForEveryType() throws {
        for type in NKeyType.allCases {
            let generated = NKeyPair.generate(type)
            #expect(generated.seed.count == 58)
            #expect(generated.publicKey.count == 56)
            #expect(generated.seed.hasPrefix("S"))
            let restored = try NKeyPair(seed: generated.seed)
            #expect(restored.type == type)
            #expect(restored.publicKey == generated.publicKey)
            #expect(try NKeyPair.decodePublicKey(generated.publicKey).type == type)
        }
    }

    @Test func publicKeyAndSeedLettersFollowTheKeyType() {
        let letters: [NKeyType: (String, String)] = [
            .user: ("U", "SU"), .account: ("A", "SA"), .operator: ("O", "SO"), .server: ("N", "SN"),
            .cluster: ("C", "SC"),
        ]
        for (type, (publicLetter, seedLetters)) in letters {
            let keyPair = NKeyPair.generate(type)
            #expect(keyPair.publicKey.hasPrefix(publicLetter))
            #expect(keyPair.seed.hasPrefix(seedLetters))
        }
    }

    /// The C client fails about one connect in 256; signatures whose bytes contain zeros or
    /// encode to `-`/`_` must all verify. Thousands of random nonces cover every such case.
    @Test func everySignatureOfManyRandomNoncesVerifies() throws {
        let keyPair = NKeyPair.generate(.user)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let nonce = Base64URL.encode((0..<11).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let signature = try #require(Base64URL.decode(try keyPair.signNonce(nonce)))
            #expect(signature.count == 64)
            #expect(NKeyPair.verify(signature: signature, data: Array(nonce.utf8), publicKey: keyPair.publicKey))
        }
    }

    @Test func signatureDoesNotVerifyForOtherDataOrOtherKey() throws {
        let keyPair = NKeyPair.generate(.user)
        let signature = try keyPair.sign(Array("payload".utf8))
        #expect(NKeyPair.verify(signature: signature, data: Array("payload".utf8), publicKey: keyPair.publicKey))
        #expect(!NKeyPair.verify(signature: signature, data: Array("payloaD".utf8), publicKey: keyPair.publicKey))
        #expect(
            !NKeyPair.verify(
                signature: signature, data: Array("payload".utf8), publicKey: NKeyPair.generate(.user).publicKey))
        #expect(!NKeyPair.verify(signature: signature, data: Array("payload".utf8), publicKey: "UNOTAKEY"))
    }

    @Test func seedWithAlteredCharacterFailsTheChecksum() {
        var characters = Array(referenceVectors[0].seed)
        characters[20] = characters[20] == "A" ? "B" : "A"
        let error = #expect(throws: NATSAuthError.self) { try NKeyPair(seed: String(characters)) }
        #expect(error?.code == .invalidChecksum)
    }

    @Test func publicKeyGivenAsSeedIsRefusedAsWrongPrefix() {
        // A public key is 35 bytes, a seed 36; pad a valid 36-byte body with a non-seed prefix instead.
        var body: [UInt8] = [20 << 3, 0] + [UInt8](repeating: 7, count: 32)
        let crc = CRC16.checksum(body)
        body += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
        let error = #expect(throws: NATSAuthError.self) { try NKeyPair(seed: Base32.encode(body)) }
        #expect(error?.code == .invalidPrefix)
    }

    @Test func seedWithUnknownTypeByteIsRefused() {
        // 'S' prefix with type byte 1 << 3, which is no NKey type.
        var body: [UInt8] = [NKeyType.seedPrefixByte, 1 << 6] + [UInt8](repeating: 9, count: 32)
        let crc = CRC16.checksum(body)
        body += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
        let error = #expect(throws: NATSAuthError.self) { try NKeyPair(seed: Base32.encode(body)) }
        #expect(error?.code == .invalidPrefix)
    }

    @Test func truncatedSeedIsRefusedWithoutEchoingIt() {
        let seed = referenceVectors[0].seed
        for length in [0, 1, 2, 10, 56, 57] {
            let truncated = String(seed.prefix(length))
            let error = #expect(throws: NATSAuthError.self) { try NKeyPair(seed: truncated) }
            #expect(error?.code == .invalidLength || error?.code == .invalidChecksum || error?.code == .invalidEncoding)
            if length > 8 {
                #expect(!(error.map { String(describing: $0) } ?? "").contains(truncated))
            }
        }
    }

    @Test func base32GarbageIsRefusedAsInvalidEncoding() {
        for garbage in [
            "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776!",
            "suaaaaicamcakbqhbaequcymbuha6earcijrifiwc4mbsgq3dqor4h776y", "SUAA AAIC",
            "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y=",
        ] {
            let error = #expect(throws: NATSAuthError.self) { try NKeyPair(seed: garbage) }
            #expect(error?.code == .invalidEncoding || error?.code == .invalidLength)
        }
    }

    @Test func seedErrorDescriptionsNeverContainTheSeed() {
        var characters = Array(referenceVectors[0].seed)
        characters[30] = characters[30] == "Q" ? "R" : "Q"
        let altered = String(characters)
        let error = #expect(throws: NATSAuthError.self) { try NKeyPair(seed: altered) }
        let text = error.map { String(describing: $0) + String(reflecting: $0) } ?? ""
        #expect(!text.isEmpty)
        #expect(!text.contains(altered))
    }

    @Test func keyPairDescriptionShowsThePublicKeyButNeverTheSeed() throws {
        let keyPair = try NKeyPair(seed: referenceVectors[0].seed)
        for text in [String(describing: keyPair), String(reflecting: keyPair), "\(keyPair)"] {
            #expect(text.contains(referenceVectors[0].publicKey))
            #expect(!text.contains(referenceVectors[0].seed))
        }
    }

    @Test func base32MatchesRFC4648TestVectorsWithoutPadding() throws {
        let vectors = [
            ("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI"),
        ]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(try Base32.decode(encoded).get() == Array(plain.utf8))
        }
    }

    @Test func base32RefusesImpossibleLengthsAndNonCanonicalTails() {
        #expect(Base32.decode("M") == .failure(.invalidLength))
        #expect(Base32.decode("MZX") == .failure(.invalidLength))
        #expect(Base32.decode("MZXW6Y") == .failure(.invalidLength))
        // "MZ" is canonical for "f"; "M3" carries non-zero bits in the unused tail.
        #expect(Base32.decode("M3") == .failure(.nonCanonicalTrailingBits))
        #expect(Base32.decode("MZX=") == .failure(.invalidCharacter(offset: 3)))
    }

    @Test func crc16IsTheXMODEMVariant() {
        // The standard check value of CRC-16/XMODEM.
        #expect(CRC16.checksum(Array("123456789".utf8)) == 0x31C3)
        #expect(CRC16.checksum([]) == 0)
    }

    @Test func base64URLRoundTripsEveryLengthAndUsesTheURLAlphabet() throws {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("ab+/") == nil)
        #expect(Base64URL.decode("abcde") == nil)
    }
}
