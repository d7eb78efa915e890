import Foundation

extension GatewayConfiguration.NATS {
    /// The NATS password from `nats.password` (file or `WAZUH_NATS_GATEWAY_NATS_PASSWORD`) or from
    /// the first line of `nats.password_file`; nil when neither is set.
    ///
    /// - Throws: `ConfigurationErrors` when the file cannot be read (the message holds no content).
    public func loadPassword() throws -> Secret? {
        try Self.secret(inline: self.password, file: self.passwordFile, keyPath: "nats.password_file")
    }

    /// The NATS token from `nats.token` (file or `WAZUH_NATS_GATEWAY_NATS_TOKEN`) or from the first
    /// line of `nats.token_file`; nil when neither is set.
    public func loadToken() throws -> Secret? {
        try Self.secret(inline: self.token, file: self.tokenFile, keyPath: "nats.token_file")
    }

    private static func secret(inline: Secret?, file: String?, keyPath: String) throws -> Secret? {
        if let inline {
            return inline
        }
        guard let file else {
            return nil
        }
        let problems = ConfigurationFileCheck.check(file, kind: .secretText, secret: true)
        guard problems.isEmpty, let data = FileManager.default.contents(atPath: file) else {
            let message = problems.first ?? "file \(file) cannot be read"
            throw ConfigurationErrors([ConfigurationError(code: .fileProblem, keyPath: keyPath, message: message)])
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        return Secret(line.trimmingWhitespace())
    }
}
