import Foundation
import Testing

@testable import Gateway

struct DashboardAccessTests {
    static func basicHeader(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test func loopbackIsOpenAndOtherAddressesAreNotServedWithoutCredentials() {
        for address in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] {
            #expect(DashboardAccess(address: address, basic: nil, token: nil).policy == .open, "\(address)")
        }
        for address in ["0.0.0.0", "10.1.2.3", "::", "192.168.1.1", "127.0.0.1.example.com", "example.com"] {
            let access = DashboardAccess(address: address, basic: nil, token: nil)
            #expect(access.policy == .disabled, "\(address)")
            #expect(!access.permits(authorization: nil))
        }
    }

    @Test func aBearerTokenIsRequiredOnceConfigured() {
        let access = DashboardAccess(address: "0.0.0.0", basic: nil, token: Secret("s3cret-token"))
        #expect(access.isServed)
        #expect(access.permits(authorization: "Bearer s3cret-token"))
        #expect(access.permits(authorization: "bearer  s3cret-token "))
        #expect(!access.permits(authorization: nil))
        #expect(!access.permits(authorization: "Bearer s3cret-tokeN"))
        #expect(!access.permits(authorization: "Bearer s3cret-token2"))
        #expect(!access.permits(authorization: "Basic " + Data("x:s3cret-token".utf8).base64EncodedString()))
        #expect(access.challenge?.hasPrefix("Bearer") == true)
    }

    @Test func basicCredentialsAreCheckedWhole() {
        let access = DashboardAccess(
            address: "127.0.0.1", basic: .init(user: "ops", password: Secret("pa:ss")), token: nil)
        #expect(access.permits(authorization: Self.basicHeader("ops", "pa:ss")))
        #expect(!access.permits(authorization: Self.basicHeader("ops", "pa:s")))
        #expect(!access.permits(authorization: Self.basicHeader("op", "pa:ss")))
        #expect(!access.permits(authorization: "Basic !!!notbase64"))
        #expect(!access.permits(authorization: nil), "credentials apply on loopback too once set")
        #expect(access.challenge?.hasPrefix("Basic realm=") == true)
    }

    @Test func credentialsComeFromPrivateFilesAndNeverShow() throws {
        let directory = try TemporaryDirectory()
        let password = try directory.write("password", "hunter2-long\n")
        let token = try directory.write("token", "tok-123\n")
        var configuration = GatewayConfiguration(managerNode: "m", natsURL: "nats://127.0.0.1:4222")
        configuration.monitoring.metricsAddress = "0.0.0.0"
        configuration.monitoring.dashboardUser = "ops"
        configuration.monitoring.dashboardPasswordFile = password
        configuration.monitoring.dashboardTokenFile = token
        let access = try configuration.monitoring.loadDashboardAccess()
        #expect(access.permits(authorization: Self.basicHeader("ops", "hunter2-long")))
        #expect(access.permits(authorization: "Bearer tok-123"))
        #expect(!"\(access)".contains("hunter2"))
        #expect(!"\(access)".contains("tok-123"))
        #expect(!configuration.effectiveDescription().contains("hunter2"))
    }

    @Test func aReadableByOthersCredentialFileIsRefused() throws {
        let directory = try TemporaryDirectory()
        let token = try directory.write("token", "tok-123\n", mode: 0o644)
        var configuration = GatewayConfiguration(managerNode: "m", natsURL: "nats://127.0.0.1:4222")
        configuration.monitoring.dashboardTokenFile = token
        #expect(throws: ConfigurationErrors.self) { try configuration.monitoring.loadDashboardAccess() }
        let problems = configuration.fileProblems().filter { $0.keyPath == "monitoring.dashboard_token_file" }
        #expect(!problems.isEmpty)
        #expect(problems.allSatisfy { !$0.message.contains("tok-123") })
    }

    @Test func dashboardKeysLoadAndAreValidatedTogether() throws {
        let configuration = try GatewayConfiguration.load(
            yaml: minimalYAML + """

                monitoring:
                  enable_dashboard: false
                  dashboard_user: "ops"
                  dashboard_password_file: "/etc/gw/dashboard.pw"
                """, environment: [:])
        #expect(configuration.monitoring.enableDashboard == false)
        #expect(configuration.monitoring.dashboardUser == "ops")
        #expect(configuration.monitoring.dashboardPasswordFile == "/etc/gw/dashboard.pw")
        #expect(GatewayConfiguration(managerNode: "m", natsURL: "nats://x:1").monitoring.enableDashboard)

        let errors = loadErrors(
            minimalYAML + """

                monitoring:
                  dashboard_user: "ops"
                """)
        #expect(errors.contains { $0.keyPath == "monitoring.dashboard_user" && $0.code == .invalidCombination })
        let orphan = loadErrors(
            minimalYAML + """

                monitoring:
                  dashboard_password_file: "/x"
                """)
        #expect(orphan.contains { $0.keyPath == "monitoring.dashboard_password_file" })
    }
}
