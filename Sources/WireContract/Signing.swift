import Crypto

/// Signs and verifies contract objects: `signature` = base64(HMAC-SHA256(key, canonical JSON of the object
/// without its `signature` member)).
///
/// Nested objects (a batch's events) are part of the signed bytes as they are, their own `signature`
/// members included; each event is verified separately with ``verify(_:)``.
extension SigningKey {
    /// The name of the signature member.
    public static let signatureMember = "signature"

    /// The signature of `object` (any existing `signature` member is left out of the signed bytes).
    public func signature(of object: [String: JSONValue]) throws(CanonicalJSON.SerializationError) -> String {
        var unsigned = object
        unsigned.removeValue(forKey: Self.signatureMember)
        return self.signature(ofCanonical: try CanonicalJSON.serialize(.object(unsigned)))
    }

    /// The signature of an object already serialized as canonical JSON without its `signature` member.
    public func signature(ofCanonical canonical: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: canonical, using: self.key)
        return Base64.encode(Array(code))
    }

    /// `object` with its `signature` member set (replaced if present).
    public func sign(_ object: [String: JSONValue]) throws(CanonicalJSON.SerializationError) -> [String: JSONValue] {
        var signed = object
        signed[Self.signatureMember] = .string(try self.signature(of: object))
        return signed
    }

    /// Whether `object`'s `signature` member is the valid signature of the rest of it.
    ///
    /// The comparison is constant-time (swift-crypto's `isValidAuthenticationCode`); a missing,
    /// non-string or non-base64 signature is simply invalid.
    public func verify(_ object: [String: JSONValue]) -> Bool {
        guard case .string(let text)? = object[Self.signatureMember],
            let claimed = Base64.decode(Array(text.utf8)), claimed.count == SHA256.byteCount
        else { return false }
        var unsigned = object
        unsigned.removeValue(forKey: Self.signatureMember)
        guard let canonical = try? CanonicalJSON.serialize(.object(unsigned)) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(claimed, authenticating: canonical, using: self.key)
    }
}
