import Foundation
import Testing

@testable import NATSClient

/// A user identity signed by a fresh account, and its `.creds` text.
private struct SampleIdentity {
    let user = NKeyPair.generate(.user)
    let account = NKeyPair.generate(.account)
    let jwt: String

    init() throws {
        jwt = try NATSJWT.userJWT(name: "sample", userPublicKey: user.publicKey, accountKey: account)
    }

    var credentials: String { NATSCredentials.format(jwt: jwt, seed: user.seed) }
}

struct AuthCredentialsTests {
    @Test func formattedCredentialsParseBackToTheSameJWTAndKey() throws {
        let identity = try SampleIdentity()
        let credentials = try NATSCredentials.parse(identity.credentials)
        #expect(credentials.jwt == identity.jwt)
        #expect(credentials.keyPair.publicKey == identity.user.publicKey)
    }

    @Test func credentialsWithCRLFIndentationAndExtraTextParse() throws {
        let identity = try SampleIdentity()
        let text =
            "\r\n  # generated for tests\r\n   -----BEGIN NATS USER JWT-----  \r\n\t\(identity.jwt)\r\n"
            + "------END NATS USER JWT------\r\n\r\nsome notice\r\n--- BEGIN USER NKEY SEED ---\r\n"
            + "   \(identity.user.seed)   \r\n---END USER NKEY SEED---\r\n"
        let credentials = try NATSCredentials.parse(text)
        #expect(credentials.jwt == identity.jwt)
        #expect(credentials.keyPair.publicKey == identity.user.publicKey)
    }

    /// A `.creds` file whose JWT was signed by the reference implementation (Python `nkeys` 0.2.1),
    /// the seed's account `ACGLM7MB…` issuing user `UAB2CB57…`.
    @Test func credentialsSignedByTheReferenceImplementationParseAndVerify() throws {
        let jwt = """
            eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ.eyJqdGkiOiIiLCJpYXQiOjE4MDAwMDAwMDAsImlzcyI6IkFDR0xNN01CN1AzVDZNSUpZNU5HSUdBVDRJTFE0UkZWVUtJSUNBRUdPUFk3UUNZWU1NRUpWVU5JIiwibmFtZSI6ImNvcnB1cyIsInN1YiI6IlVBQjJDQjU3NlBIQkJQUTVPRE9SUloyTFlDTVdQWkdXR0NOMktESzdEWE9JTVpBU0tVWTNSTEtLIiwibmF0cyI6eyJwdWIiOnt9LCJzdWIiOnt9LCJzdWJzIjotMSwiZGF0YSI6LTEsInBheWxvYWQiOi0xLCJ0eXBlIjoidXNlciIsInZlcnNpb24iOjJ9fQ.gRt6PvjoAL1Ti_svkP936DcgKrfCKF3sIKG82vys9IO5Vr5MRvPqHS_GivmjtIEmqaOyAOBzJlmmQYCO-ua3Dw
            """
        let text = NATSCredentials.format(jwt: jwt, seed: "SUAAAAICAMCAKBQHBAEQUCYMBUHA6EARCIJRIFIWC4MBSGQ3DQOR4H776Y")
        let credentials = try NATSCredentials.parse(text)
        #expect(credentials.keyPair.publicKey == "UAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3RLKK")
        let claims = try NATSJWT.decode(credentials.jwt)
        #expect(claims.issuer == "ACGLM7MB7P3T6MIJY5NGIGAT4ILQ4RFVUKIICAEGOPY7QCYYMMEJVUNI")
        #expect(claims.type == "user")
        #expect(claims.name == "corpus")
    }

    @Test func credentialsWrittenWithCRLFLineEndingsParse() throws {
        let identity = try SampleIdentity()
        let text = identity.credentials.replacingOccurrences(of: "\n", with: "\r\n")
        let credentials = try NATSCredentials.parse(text)
        #expect(credentials.jwt == identity.jwt)
        #expect(credentials.keyPair.publicKey == identity.user.publicKey)
    }

    @Test func jwtWrappedOverSeveralLinesIsJoined() throws {
        let identity = try SampleIdentity()
        let jwt = identity.jwt
        let middle = jwt.index(jwt.startIndex, offsetBy: jwt.count / 2)
        let text = identity.credentials.replacingOccurrences(
            of: jwt, with: String(jwt[..<middle]) + "\n" + String(jwt[middle...]))
        #expect(try NATSCredentials.parse(text).jwt == jwt)
    }

    @Test func credentialsWithoutSeedBlockAreRefused() throws {
        let identity = try SampleIdentity()
        let text = "-----BEGIN NATS USER JWT-----\n\(identity.jwt)\n------END NATS USER JWT------\n"
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.parse(text) }
        #expect(error?.code == .malformedCredentials)
    }

    @Test func credentialsWithoutJWTBlockAreRefused() throws {
        let identity = try SampleIdentity()
        let text = "-----BEGIN USER NKEY SEED-----\n\(identity.user.seed)\n------END USER NKEY SEED------\n"
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.parse(text) }
        #expect(error?.code == .malformedCredentials)
        #expect(!(error.map { "\($0)" } ?? "").contains(identity.user.seed))
    }

    @Test func bareJWTAndSeedWithoutMarkersAreRefused() throws {
        let identity = try SampleIdentity()
        let error = #expect(throws: NATSAuthError.self) {
            try NATSCredentials.parse(identity.jwt + "\n" + identity.user.seed + "\n")
        }
        #expect(error?.code == .malformedCredentials)
    }

    @Test func unterminatedOrEmptyOrDuplicatedBlocksAreRefused() throws {
        let identity = try SampleIdentity()
        let full = identity.credentials
        let unterminated = full.replacingOccurrences(of: "------END USER NKEY SEED------", with: "")
        let empty = full.replacingOccurrences(of: identity.jwt, with: "")
        let duplicated = full + full
        let crlfUnterminated = unterminated.replacingOccurrences(of: "\n", with: "\r\n")
        for text in [unterminated, crlfUnterminated, empty, duplicated] {
            let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.parse(text) }
            #expect(error?.code == .malformedCredentials)
            let description = error.map { "\($0)" + String(reflecting: $0) } ?? ""
            #expect(!description.contains(identity.user.seed))
            #expect(!description.contains(identity.jwt))
        }
    }

    @Test func seedOfAnotherUserThanTheJWTSubjectIsRefused() throws {
        let identity = try SampleIdentity()
        let other = NKeyPair.generate(.user)
        let text = NATSCredentials.format(jwt: identity.jwt, seed: other.seed)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.parse(text) }
        #expect(error?.code == .credentialsMismatch)
        #expect(!(error.map { "\($0)" } ?? "").contains(other.seed))
    }

    @Test func accountSeedInCredentialsIsRefused() throws {
        let identity = try SampleIdentity()
        let text = NATSCredentials.format(jwt: identity.jwt, seed: identity.account.seed)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.parse(text) }
        #expect(error?.code == .unexpectedKeyType)
    }

    @Test func garbageInJWTBlockIsRefusedAsMalformedCredentials() throws {
        let identity = try SampleIdentity()
        let text = NATSCredentials.format(jwt: "not.a-jwt", seed: identity.user.seed)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.parse(text) }
        #expect(error?.code == .malformedCredentials)
    }

    @Test func credentialsFileReadableByOthersIsRefusedNamingPathAndMode() throws {
        let directory = try TemporaryDirectory()
        let identity = try SampleIdentity()
        let path = try directory.write("user.creds", identity.credentials, mode: 0o644)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.load(credentialsFile: path) }
        #expect(error?.code == .insecurePermissions)
        #expect(error?.path == path)
        let text = error.map { "\($0)" } ?? ""
        #expect(text.contains(path))
        #expect(text.contains("0644"))
        #expect(!text.contains(identity.user.seed))
        #expect(!text.contains(identity.jwt))
    }

    @Test func credentialsFileWritableByGroupIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("user.creds", try SampleIdentity().credentials, mode: 0o620)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.load(credentialsFile: path) }
        #expect(error?.code == .insecurePermissions)
    }

    @Test func credentialsFileWithOwnerOnlyAccessLoads() throws {
        let directory = try TemporaryDirectory()
        let identity = try SampleIdentity()
        for mode in [0o600, 0o400, 0o700] {
            let path = try directory.write("user-\(mode).creds", identity.credentials, mode: mode)
            let credentials = try NATSCredentials.load(credentialsFile: path)
            #expect(credentials.keyPair.publicKey == identity.user.publicKey)
            #expect(credentials.jwt == identity.jwt)
        }
    }

    @Test func missingOrDirectoryCredentialsFileIsUnreadable() throws {
        let directory = try TemporaryDirectory()
        for path in [directory.path + "/absent.creds", directory.path] {
            let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.load(credentialsFile: path) }
            #expect(error?.code == .fileUnreadable)
            #expect(error?.path == path)
        }
    }

    @Test func malformedCredentialsFileErrorNamesThePath() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("broken.creds", "nothing here\n", mode: 0o600)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.load(credentialsFile: path) }
        #expect(error?.code == .malformedCredentials)
        #expect(error?.path == path)
    }

    @Test func seedFileLoadsBareOrDecoratedSeeds() throws {
        let directory = try TemporaryDirectory()
        let user = NKeyPair.generate(.user)
        let bare = try directory.write("bare.nk", user.seed + "\n", mode: 0o600)
        let decorated = try directory.write(
            "decorated.nk", "-----BEGIN USER NKEY SEED-----\r\n\(user.seed)\r\n------END USER NKEY SEED------\r\n",
            mode: 0o600)
        #expect(try NATSCredentials.loadSeed(file: bare).publicKey == user.publicKey)
        #expect(try NATSCredentials.loadSeed(file: decorated).publicKey == user.publicKey)
    }

    @Test func seedFileReadableByGroupIsRefused() throws {
        let directory = try TemporaryDirectory()
        let user = NKeyPair.generate(.user)
        let path = try directory.write("user.nk", user.seed, mode: 0o640)
        let error = #expect(throws: NATSAuthError.self) { try NATSCredentials.loadSeed(file: path) }
        #expect(error?.code == .insecurePermissions)
        #expect(!(error.map { "\($0)" } ?? "").contains(user.seed))
    }

    @Test func seedFileWithBadChecksumOrWrongTypeIsRefusedNamingThePath() throws {
        let directory = try TemporaryDirectory()
        var characters = Array(NKeyPair.generate(.user).seed)
        characters[10] = characters[10] == "Z" ? "Y" : "Z"
        let corrupt = try directory.write("corrupt.nk", String(characters), mode: 0o600)
        let corruptError = #expect(throws: NATSAuthError.self) { try NATSCredentials.loadSeed(file: corrupt) }
        #expect(corruptError?.code == .invalidChecksum)
        #expect(corruptError?.path == corrupt)

        let account = NKeyPair.generate(.account)
        let accountFile = try directory.write("account.nk", account.seed, mode: 0o600)
        let typeError = #expect(throws: NATSAuthError.self) { try NATSCredentials.loadSeed(file: accountFile) }
        #expect(typeError?.code == .unexpectedKeyType)
        #expect(try NATSCredentials.loadSeed(file: accountFile, expectedType: nil).publicKey == account.publicKey)
    }

    @Test func credentialsDescriptionNeverShowsSecrets() throws {
        let identity = try SampleIdentity()
        let credentials = try NATSCredentials.parse(identity.credentials)
        let text = "\(credentials)" + String(reflecting: credentials)
        #expect(!text.contains(identity.user.seed))
        #expect(!text.contains(identity.jwt))
    }
}
