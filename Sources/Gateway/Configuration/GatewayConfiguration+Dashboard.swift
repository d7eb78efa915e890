import Foundation

extension GatewayConfiguration.Monitoring {
    /// Who may open the dashboard, from `metrics_address` and the credential files: open on
    /// loopback without credentials, credentials required when any is configured, not served on a
    /// non-loopback address without credentials.
    ///
    /// - Throws: `ConfigurationErrors` when a credential file cannot be read (the message names
    ///   the key and the file, never its content).
    public func loadDashboardAccess() throws -> DashboardAccess {
        var basic: DashboardAccess.BasicCredentials?
        if let user = self.dashboardUser, let file = self.dashboardPasswordFile {
            basic = .init(user: user, password: try Self.firstLine(file, keyPath: "monitoring.dashboard_password_file"))
        }
        let token = try self.dashboardTokenFile.map {
            try Self.firstLine($0, keyPath: "monitoring.dashboard_token_file")
        }
        return DashboardAccess(address: self.metricsAddress, basic: basic, token: token)
    }

    private static func firstLine(_ file: String, keyPath: String) throws -> Secret {
        let problems = ConfigurationFileCheck.check(file, kind: .secretText, secret: true)
        guard problems.isEmpty, let data = FileManager.default.contents(atPath: file) else {
            let message = problems.first ?? "file \(file) cannot be read"
            throw ConfigurationErrors([ConfigurationError(code: .fileProblem, keyPath: keyPath, message: message)])
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        let value = line.trimmingWhitespace()
        guard !value.isEmpty else {
            throw ConfigurationErrors([
                ConfigurationError(code: .fileProblem, keyPath: keyPath, message: "file \(file) holds no secret")
            ])
        }
        return Secret(value)
    }
}
