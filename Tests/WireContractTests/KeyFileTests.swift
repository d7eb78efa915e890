import Foundation
import Testing

@testable import WireContract

struct KeyFileTests {
    private func write(_ text: String, to path: String, mode: Int) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    private func base64(_ count: Int, byte: UInt8 = 7) -> String {
        Data(repeating: byte, count: count).base64EncodedString()
    }

    @Test func ownerOnlyKeyFileIsRead() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("signing.key")
        try self.write(self.base64(32) + "\n", to: path, mode: 0o600)
        let key = try SigningKey(path: path)
        #expect(key.byteCount == 32)
        try self.write(self.base64(32), to: dir.file("aes.key"), mode: 0o400)
        _ = try EncryptionKey(path: dir.file("aes.key"))
    }

    @Test func groupOrWorldAccessibleKeyFileIsRefusedWithPathAndMode() throws {
        let dir = try TemporaryDirectory()
        for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o660] {
            let path = dir.file("key-\(mode)")
            try self.write(self.base64(32), to: path, mode: mode)
            let error = #expect(throws: KeyFileError.self) { try SigningKey(path: path) }
            #expect(error?.code == .tooOpen)
            #expect(error?.mode == UInt32(mode))
            #expect(error?.description.contains(path) == true)
            #expect(error?.description.contains("0" + String(mode, radix: 8)) == true)
        }
    }

    @Test func shortSigningKeyIsRefused() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("short.key")
        try self.write(self.base64(31), to: path, mode: 0o600)
        let error = #expect(throws: KeyFileError.self) { try SigningKey(path: path) }
        #expect(error?.code == .wrongLength)
        #expect(error?.length == 31)
        try self.write(self.base64(64), to: path, mode: 0o600)
        #expect(try SigningKey(path: path).byteCount == 64)
    }

    @Test func encryptionKeyMustBeExactly32Bytes() throws {
        let dir = try TemporaryDirectory()
        for count in [31, 33, 16, 64] {
            let path = dir.file("aes-\(count).key")
            try self.write(self.base64(count), to: path, mode: 0o600)
            let error = #expect(throws: KeyFileError.self) { try EncryptionKey(path: path) }
            #expect(error?.code == .wrongLength)
            #expect(error?.length == count)
        }
    }

    @Test func notBase64EmptyAndMissingFilesAreTypedErrors() throws {
        let dir = try TemporaryDirectory()
        let garbage = dir.file("garbage.key")
        let secretLookingText = "this-is-not-base64!!-SECRET-MATERIAL"
        try self.write(secretLookingText, to: garbage, mode: 0o600)
        let notBase64 = #expect(throws: KeyFileError.self) { try SigningKey(path: garbage) }
        #expect(notBase64?.code == .notBase64)
        #expect(notBase64?.description.contains("SECRET") == false)
        #expect(notBase64?.debugDescription.contains("SECRET") == false)

        let unpadded = dir.file("unpadded.key")
        try self.write(String(self.base64(32).dropLast()), to: unpadded, mode: 0o600)
        #expect(throws: KeyFileError.self) { try SigningKey(path: unpadded) }

        let empty = dir.file("empty.key")
        try self.write(" \n", to: empty, mode: 0o600)
        let emptyError = #expect(throws: KeyFileError.self) { try SigningKey(path: empty) }
        #expect(emptyError?.code == .empty)

        let missing = dir.file("missing.key")
        let missingError = #expect(throws: KeyFileError.self) { try SigningKey(path: missing) }
        #expect(missingError?.code == .unreadable)
        #expect(missingError?.description.contains(missing) == true)

        let directoryError = #expect(throws: KeyFileError.self) { try SigningKey(path: dir.path) }
        #expect(directoryError?.code == .unreadable)
    }

    @Test func wrongLengthErrorNeverShowsKeyMaterial() throws {
        let text = self.base64(31, byte: 0x41)
        let error = #expect(throws: KeyFileError.self) { try SigningKey(base64Text: text, source: "env:KEY") }
        #expect(error?.description.contains(text) == false)
        #expect(error?.debugDescription.contains(text) == false)
        #expect(error?.description.contains("env:KEY") == true)
    }

    @Test func generatedKeyFileIsOwnerOnlyAndReadsBack() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("new.key")
        let generated = try KeyFile.generate(path: path, bytes: 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try KeyFile.read(path: path) == generated)
        _ = try EncryptionKey(path: path)
    }

    @Test func generateRefusesToOverwriteUnlessAsked() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("new.key")
        let first = try KeyFile.generate(path: path, bytes: 48)
        let error = #expect(throws: KeyFileError.self) { try KeyFile.generate(path: path, bytes: 48) }
        #expect(error?.code == .cannotCreate)
        #expect(try KeyFile.read(path: path) == first)

        let second = try KeyFile.generate(path: path, bytes: 48, overwrite: true)
        #expect(second != first)
        #expect(try KeyFile.read(path: path) == second)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["new.key"])
    }

    @Test func base64DecodingIsStrict() {
        #expect(Base64.decode(Array("Zg==".utf8)) == [0x66])
        #expect(Base64.decode(Array("Zm8=".utf8)) == [0x66, 0x6F])
        #expect(Base64.decode(Array("Zm9v".utf8)) == [0x66, 0x6F, 0x6F])
        #expect(Base64.decode(Array("Zh==".utf8)) == nil)  // non-zero trailing bits
        #expect(Base64.decode(Array("Z===".utf8)) == nil)
        #expect(Base64.decode(Array("Zg=a".utf8)) == nil)
        #expect(Base64.decode(Array("Zg==Zg==".utf8)) == nil)
        #expect(Base64.decode(Array("Zm9-".utf8)) == nil)
        for count in 0..<40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64.encode(bytes)
            #expect(encoded == Data(bytes).base64EncodedString())
            #expect(Base64.decode(Array(encoded.utf8)) == bytes)
        }
    }
}
