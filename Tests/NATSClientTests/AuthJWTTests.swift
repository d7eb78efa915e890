import Foundation
import Testing

@testable import NATSClient

struct AuthJWTTests {
    @Test func mintedChainOfJWTsVerifiesAndCarriesTheClaims() throws {
        let operatorKey = NKeyPair.generate(.operator)
        let account = NKeyPair.generate(.account)
        let user = NKeyPair.generate(.user)
        let issuedAt = Date(timeIntervalSince1970: 1_800_000_000)

        let operatorJWT = try NATSJWT.operatorJWT(
            name: "op", operatorKey: operatorKey, systemAccount: account.publicKey, issuedAt: issuedAt)
        let accountJWT = try NATSJWT.accountJWT(
            name: "acct", accountPublicKey: account.publicKey, operatorKey: operatorKey, issuedAt: issuedAt)
        let userJWT = try NATSJWT.userJWT(
            name: "usr", userPublicKey: user.publicKey, accountKey: account, issuedAt: issuedAt)

        #expect(
            try NATSJWT.decode(operatorJWT)
                == NATSJWT.Claims(
                    issuer: operatorKey.publicKey, subject: operatorKey.publicKey, name: "op", type: "operator",
                    issuedAt: 1_800_000_000, issuerAccount: nil))
        #expect(
            try NATSJWT.decode(accountJWT)
                == NATSJWT.Claims(
                    issuer: operatorKey.publicKey, subject: account.publicKey, name: "acct", type: "account",
                    issuedAt: 1_800_000_000, issuerAccount: nil))
        #expect(
            try NATSJWT.decode(userJWT)
                == NATSJWT.Claims(
                    issuer: account.publicKey, subject: user.publicKey, name: "usr", type: "user",
                    issuedAt: 1_800_000_000, issuerAccount: nil))
    }

    @Test func headerIsTheNATSEd25519HeaderAndSegmentsAreUnpadded() throws {
        let account = NKeyPair.generate(.account)
        let jwt = try NATSJWT.userJWT(name: "u", userPublicKey: NKeyPair.generate(.user).publicKey, accountKey: account)
        let parts = jwt.split(separator: ".")
        #expect(parts.count == 3)
        #expect(!jwt.contains("="))
        let header = try #require(Base64URL.decode(parts[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"ed25519-nkey","typ":"JWT"}"#)
        #expect(try #require(Base64URL.decode(parts[2])).count == 64)
    }

    @Test func jtiIsTheBase32SHA256OfTheClaimsWithoutIt() throws {
        let account = NKeyPair.generate(.account)
        let jwt = try NATSJWT.userJWT(name: "u", userPublicKey: NKeyPair.generate(.user).publicKey, accountKey: account)
        let claimBytes = try #require(Base64URL.decode(jwt.split(separator: ".")[1]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(claimBytes)) as? [String: Any])
        let jti = try #require(object["jti"] as? String)
        #expect(jti.count == 52)
        #expect(Base32.decode(jti).map(\.count) == .success(32))
        let nats = try #require(object["nats"] as? [String: Any])
        #expect(nats["version"] as? Int == 2)
        #expect(nats["type"] as? String == "user")
    }

    @Test func accountWithJetStreamHasUnlimitedStorageAndSystemAccountHasNone() throws {
        let operatorKey = NKeyPair.generate(.operator)
        let account = NKeyPair.generate(.account)
        func limits(_ jwt: String) throws -> [String: Any] {
            let bytes = try #require(Base64URL.decode(jwt.split(separator: ".")[1]))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let nats = try #require(object["nats"] as? [String: Any])
            return try #require(nats["limits"] as? [String: Any])
        }
        let withJetStream = try limits(
            NATSJWT.accountJWT(name: "a", accountPublicKey: account.publicKey, operatorKey: operatorKey))
        #expect(withJetStream["disk_storage"] as? Int == -1)
        #expect(withJetStream["mem_storage"] as? Int == -1)
        let without = try limits(
            NATSJWT.accountJWT(
                name: "s", accountPublicKey: account.publicKey, operatorKey: operatorKey, jetStream: false))
        #expect(without["disk_storage"] == nil)
        #expect(without["mem_storage"] == nil)
    }

    @Test func tamperedClaimsFailSignatureVerification() throws {
        let account = NKeyPair.generate(.account)
        let jwt = try NATSJWT.userJWT(name: "u", userPublicKey: NKeyPair.generate(.user).publicKey, accountKey: account)
        let parts = jwt.split(separator: ".").map(String.init)
        let claims = String(decoding: try #require(Base64URL.decode(parts[1])), as: UTF8.self)
        #expect(claims.contains(#""name":"u""#))
        let altered = claims.replacingOccurrences(of: #""name":"u""#, with: #""name":"v""#)
        let forged = parts[0] + "." + Base64URL.encode(Array(altered.utf8)) + "." + parts[2]
        let error = #expect(throws: NATSAuthError.self) { try NATSJWT.decode(forged) }
        #expect(error?.code == .malformedJWT)
        #expect(try NATSJWT.decode(forged, verifySignature: false).name == "v")
    }

    @Test func keysOfTheWrongTypeCannotIssue() {
        let user = NKeyPair.generate(.user)
        let account = NKeyPair.generate(.account)
        let asOperator = #expect(throws: NATSAuthError.self) {
            try NATSJWT.accountJWT(name: "a", accountPublicKey: account.publicKey, operatorKey: account)
        }
        #expect(asOperator?.code == .unexpectedKeyType)
        let asSubject = #expect(throws: NATSAuthError.self) {
            try NATSJWT.userJWT(name: "u", userPublicKey: account.publicKey, accountKey: account)
        }
        #expect(asSubject?.code == .unexpectedKeyType)
        let asAccount = #expect(throws: NATSAuthError.self) {
            try NATSJWT.userJWT(name: "u", userPublicKey: user.publicKey, accountKey: user)
        }
        #expect(asAccount?.code == .unexpectedKeyType)
    }

    @Test func malformedJWTsAreRefused() {
        for text in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.AAAA"] {
            let error = #expect(throws: NATSAuthError.self) { try NATSJWT.decode(text) }
            #expect(error?.code == .malformedJWT)
        }
    }
}
