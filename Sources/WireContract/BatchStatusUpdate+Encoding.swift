/// A batch part's signed canonical JSON, written from its events' own canonical JSON.
///
/// A restart storm's batch parts hold about a thousand events each. Building a part as a JSON tree
/// (once to sign it, once to serialize it) cost several KiB per event in short-lived dictionaries, and
/// that transient was the peak of the gateway's memory in a storm. The events are already serialized
/// (each is journaled on its own), and canonical JSON nests them verbatim, so the part is written
/// around those bytes instead: the result is byte for byte `signed(with:).canonicalJSON()`.
extension BatchStatusUpdate {
    /// The canonical JSON of the batch signed with `key`, the same bytes as
    /// `signed(with: key).canonicalJSON()`.
    ///
    /// - Parameter eventPayloads: the canonical JSON of each of ``events`` (signed, as they are), in
    ///   order; one per event.
    public func signedCanonicalJSON(with key: SigningKey, eventPayloads: some Collection<[UInt8]>) -> [UInt8] {
        var unsigned = self
        unsigned.signature = nil
        let signature = key.signature(ofCanonical: unsigned.canonicalJSON(eventPayloads: eventPayloads))
        var signed = self
        signed.signature = signature
        return signed.canonicalJSON(eventPayloads: eventPayloads)
    }

    /// The canonical JSON of the batch as it is, its `events` member written from `eventPayloads`.
    func canonicalJSON(eventPayloads: some Collection<[UInt8]>) -> [UInt8] {
        var members: [String: JSONValue] = [
            "batch_id": .string(self.batchID),
            "manager_node": .string(self.managerNode),
            "timestamp": .string(self.timestamp),
            "summary": .object(self.summary.jsonObject),
        ]
        if let part = self.part { members["part"] = .int(Int64(part)) }
        if let parts = self.parts { members["parts"] = .int(Int64(parts)) }
        if let signature = self.signature { members["signature"] = .string(signature) }
        let eventsMember = "events"
        let keys = (Array(members.keys) + [eventsMember]).sorted(by: CanonicalJSON.utf16Less)
        var output = [UInt8]()
        output.reserveCapacity(eventPayloads.reduce(1024) { $0 + $1.count + 1 })
        output.append(UInt8(ascii: "{"))
        for (index, key) in keys.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(key, to: &output)
            output.append(UInt8(ascii: ":"))
            guard let value = members[key] else {
                output.append(UInt8(ascii: "["))
                for (position, payload) in eventPayloads.enumerated() {
                    if position > 0 { output.append(UInt8(ascii: ",")) }
                    output.append(contentsOf: payload)
                }
                output.append(UInt8(ascii: "]"))
                continue
            }
            // Strings, integers and nested objects of them only: serialization cannot fail.
            try? CanonicalJSON.append(value, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return output
    }
}
