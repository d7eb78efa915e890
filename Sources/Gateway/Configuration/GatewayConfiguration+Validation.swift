extension GatewayConfiguration {
    /// Checks everything `run` relies on before it starts: the combination rules of `load`, then
    /// every referenced file — it exists, is readable, secret files (keys, credentials, password
    /// and token files) are not accessible to group or others, key files hold base64 of the right
    /// length, certificates are PEM — and that the outbox database can be created or written.
    ///
    /// - Throws: `ConfigurationErrors` listing every problem; messages never contain file content.
    public func validate() throws {
        var problems = self.combinationProblems()
        problems += self.fileProblems()
        if !problems.isEmpty {
            throw ConfigurationErrors(problems)
        }
    }

    /// The file-system half of `validate()`.
    public func fileProblems() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func check(_ keyPath: String, _ path: String?, _ kind: ConfigurationFileCheck.Kind, secret: Bool) {
            guard let path, !path.isEmpty else { return }
            for message in ConfigurationFileCheck.check(path, kind: kind, secret: secret) {
                problems.append(
                    ConfigurationError(
                        code: .fileProblem, keyPath: keyPath, message: message, origin: self.keyOrigins[keyPath]))
            }
        }
        for (index, manager) in self.watchedManagers.enumerated() {
            let prefix = self.managerKeyPrefix(index)
            if manager.source == .api {
                check("\(prefix).api_password_file", manager.api.passwordFile, .secretText, secret: true)
                check("\(prefix).api_ca", manager.api.caFile, .pem(marker: "CERTIFICATE"), secret: false)
            } else {
                check("\(prefix).db_path", manager.dbPath, .readable, secret: false)
            }
            if manager.explicitClientKeysPath != nil {
                check("\(prefix).client_keys_path", manager.clientKeysPath, .readable, secret: false)
            }
        }
        check("nats.credentials_file", self.nats.credentialsFile, .natsCredentials, secret: true)
        check("nats.tls_cert", self.nats.tlsCert, .pem(marker: "CERTIFICATE"), secret: false)
        check("nats.tls_key", self.nats.tlsKey, .pem(marker: "PRIVATE KEY"), secret: true)
        check("nats.tls_ca", self.nats.tlsCA, .pem(marker: "CERTIFICATE"), secret: false)
        check("nats.password_file", self.nats.passwordFile, .secretText, secret: true)
        check("nats.token_file", self.nats.tokenFile, .secretText, secret: true)
        check("nats.nkey_seed_file", self.nats.nkeySeedFile, .nkeySeed, secret: true)
        check("monitoring.dashboard_password_file", self.monitoring.dashboardPasswordFile, .secretText, secret: true)
        check("monitoring.dashboard_token_file", self.monitoring.dashboardTokenFile, .secretText, secret: true)
        check(
            "security.signing_key_path", self.security.signingKeyPath, .signingKey,
            secret: true)
        if self.security.encryptMessages {
            check(
                "security.encryption_key_path", self.security.encryptionKeyPath,
                .encryptionKey, secret: true)
        }
        if let sourceFile = self.sourceFile {
            for keyPath in ["nats.password", "nats.token"] {
                guard case .file? = self.keyOrigins[keyPath],
                    let message = ConfigurationFileCheck.exposedSecretProblem(in: sourceFile)
                else { continue }
                problems.append(
                    ConfigurationError(
                        code: .fileProblem, keyPath: keyPath, message: message, origin: self.keyOrigins[keyPath]))
            }
        }
        for message in ConfigurationFileCheck.checkWritableDatabase(self.outbox.path) {
            problems.append(
                ConfigurationError(
                    code: .fileProblem, keyPath: "outbox.path", message: message, origin: self.keyOrigins["outbox.path"]
                ))
        }
        return problems
    }
}
