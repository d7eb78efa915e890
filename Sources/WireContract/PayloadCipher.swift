import Crypto

/// AES-256-GCM payload encryption: `nonce (12 random bytes) ‖ ciphertext ‖ tag (16)`, with the subject's
/// UTF-8 bytes as additional authenticated data, so a message moved to another subject fails to open.
public enum PayloadCipher {
    /// Bytes added to the payload: nonce plus tag.
    public static let overhead = 12 + 16

    /// Encrypts `plaintext` for `subject` with a fresh random nonce.
    public static func seal(_ plaintext: [UInt8], subject: String, key: EncryptionKey) throws(WireError) -> [UInt8] {
        do {
            let box = try AES.GCM.seal(
                plaintext, using: key.key, nonce: AES.GCM.Nonce(), authenticating: Array(subject.utf8))
            guard let combined = box.combined else {
                throw WireError(code: .encryptionFailed, message: "AES-GCM produced no combined form")
            }
            return Array(combined)
        } catch let error as WireError {
            throw error
        } catch {
            throw WireError(code: .encryptionFailed, message: "AES-GCM sealing failed")
        }
    }

    /// Decrypts and authenticates `payload` received on `subject`.
    ///
    /// - Throws: ``WireError`` `decryptionFailed` for a wrong key, a wrong subject, any altered byte or a
    ///   payload shorter than nonce plus tag.
    public static func open(_ payload: [UInt8], subject: String, key: EncryptionKey) throws(WireError) -> [UInt8] {
        guard payload.count >= Self.overhead else {
            throw WireError(code: .decryptionFailed, message: "encrypted payload shorter than nonce and tag")
        }
        do {
            let box = try AES.GCM.SealedBox(combined: payload)
            return Array(try AES.GCM.open(box, using: key.key, authenticating: Array(subject.utf8)))
        } catch {
            throw WireError(
                code: .decryptionFailed, message: "authentication failed (wrong key, wrong subject or altered payload)")
        }
    }
}
