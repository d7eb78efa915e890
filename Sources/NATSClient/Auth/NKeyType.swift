/// The role of an NKey, encoded in the first base32 character of its public key
/// (`U` user, `A` account, `O` operator, `N` server, `C` cluster) and in the second
/// character of its seed (`SU…`, `SA…`, `SO…`, …).
public enum NKeyType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case user
    case account
    case `operator`
    case server
    case cluster

    /// The prefix byte of a public key of this type; its top five bits are the base32 letter.
    var prefixByte: UInt8 {
        switch self {
        case .user: 20 << 3  // 'U'
        case .account: 0  // 'A'
        case .operator: 14 << 3  // 'O'
        case .server: 13 << 3  // 'N'
        case .cluster: 2 << 3  // 'C'
        }
    }

    /// The type whose public-key prefix byte is `byte`, if any.
    init?(prefixByte byte: UInt8) {
        guard let match = Self.allCases.first(where: { $0.prefixByte == byte }) else { return nil }
        self = match
    }

    /// The prefix byte of every seed (`S`), whichever type it holds.
    static let seedPrefixByte: UInt8 = 18 << 3

    public var description: String {
        switch self {
        case .user: "user"
        case .account: "account"
        case .operator: "operator"
        case .server: "server"
        case .cluster: "cluster"
        }
    }
}
