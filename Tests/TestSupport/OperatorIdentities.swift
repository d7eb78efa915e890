import Foundation
import NATSClient

/// A complete decentralized-auth (operator mode) identity set for a test server: an operator, a
/// system account, an application account with JetStream, and one user of that account.
///
/// ``serverConfig`` is the `extraConfig` for ``NATSServerProcess``: the operator JWT, the system
/// account, and a memory resolver preloaded with both account JWTs (nats-server 2.9 refuses
/// JetStream in operator mode without a system account).
public struct OperatorIdentities: Sendable {
    public let operatorKey: NKeyPair
    public let systemAccount: NKeyPair
    public let account: NKeyPair
    public let user: NKeyPair
    public let operatorJWT: String
    public let systemAccountJWT: String
    public let accountJWT: String
    public let userJWT: String

    /// Generates fresh keys and signs the chain of JWTs.
    public init(operatorName: String = "test-operator") throws {
        operatorKey = NKeyPair.generate(.operator)
        systemAccount = NKeyPair.generate(.account)
        account = NKeyPair.generate(.account)
        user = NKeyPair.generate(.user)
        operatorJWT = try NATSJWT.operatorJWT(
            name: operatorName, operatorKey: operatorKey, systemAccount: systemAccount.publicKey)
        systemAccountJWT = try NATSJWT.accountJWT(
            name: "SYS", accountPublicKey: systemAccount.publicKey, operatorKey: operatorKey, jetStream: false)
        accountJWT = try NATSJWT.accountJWT(
            name: "APP", accountPublicKey: account.publicKey, operatorKey: operatorKey, jetStream: true)
        userJWT = try NATSJWT.userJWT(name: "gateway", userPublicKey: user.publicKey, accountKey: account)
    }

    /// Server configuration lines enabling operator mode with these identities.
    public var serverConfig: String {
        """
        operator: "\(operatorJWT)"
        system_account: "\(systemAccount.publicKey)"
        resolver: MEMORY
        resolver_preload: {
          \(systemAccount.publicKey): "\(systemAccountJWT)"
          \(account.publicKey): "\(accountJWT)"
        }

        """
    }

    /// The user's credentials in memory.
    public var credentials: NATSCredentials {
        NATSCredentials(jwt: userJWT, keyPair: user)
    }

    /// A new user of the application account (signed by it), with its `.creds` text.
    public func makeUser(name: String) throws -> (keyPair: NKeyPair, jwt: String, credentialsText: String) {
        let keyPair = NKeyPair.generate(.user)
        let jwt = try NATSJWT.userJWT(name: name, userPublicKey: keyPair.publicKey, accountKey: account)
        return (keyPair, jwt, NATSCredentials.format(jwt: jwt, seed: keyPair.seed))
    }

    /// Writes the user's `.creds` file into `directory` with mode 0600 and returns its path.
    public func writeCredentials(in directory: String, fileName: String = "user.creds") throws -> String {
        try Self.writeSecret(
            NATSCredentials.format(jwt: userJWT, seed: user.seed), to: directory + "/" + fileName)
    }

    /// Writes `text` to `path`, readable and writable by the owner only (0600).
    public static func writeSecret(_ text: String, to path: String, mode: Int = 0o600) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }
}
