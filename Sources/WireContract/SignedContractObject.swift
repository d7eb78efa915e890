/// A contract message that is one JSON object signed as a whole (events, batches, heartbeats, anomaly
/// findings, flapping summaries): it states its members in ``jsonObject`` and holds its ``signature``;
/// signing and canonical serialization are the same for all of them.
///
/// Such objects hold only strings, integers, booleans, null and nested objects or arrays of them, so
/// canonical serialization cannot fail.
public protocol SignedContractObject: Sendable {
    /// The object's members, `signature` included when set.
    var jsonObject: [String: JSONValue] { get }
    /// base64 HMAC-SHA256 of the canonical JSON of ``jsonObject`` without `signature`.
    var signature: String? { get set }
}

extension SignedContractObject {
    /// The object with ``signature`` set by `key` (nested objects keep the signatures they have).
    public func signed(with key: SigningKey) -> Self {
        var copy = self
        // Strings, integers, booleans and null only: canonical serialization cannot fail.
        copy.signature = try? key.signature(of: self.jsonObject)
        return copy
    }

    /// The canonical JSON bytes of the object as it is (sign first with ``signed(with:)``).
    public func canonicalJSON() -> [UInt8] {
        // Serialization cannot fail (see the type's note): the empty fallback is unreachable.
        (try? CanonicalJSON.serialize(.object(self.jsonObject))) ?? []
    }
}
