import NATSClient

extension GatewayConfiguration {
    /// The NATS client options for this configuration: servers from `nats.url`, the one configured
    /// authentication method (secrets read now from their files or the environment), TLS files,
    /// keep-alive, request timeout and reconnect policy. The client name is
    /// `wazuh-nats-gateway/<manager_node>`.
    ///
    /// `nats.reconnect_delay` is the delay between attempts (base and cap of the client's backoff);
    /// `nats.max_reconnects` -1 retries forever, 0 disables reconnecting.
    ///
    /// - Throws: `ConfigurationErrors` when a password or token file cannot be read, or the NATS
    ///   client's `NATSError` for a URL it cannot parse (`load` already refuses malformed URLs).
    public func natsConnectionOptions() throws -> NATSConnectionOptions {
        let nats = self.nats
        let auth: NATSAuth
        if let credentialsFile = nats.credentialsFile {
            auth = .credentialsFile(credentialsFile)
        } else if let seedFile = nats.nkeySeedFile {
            auth = .nkeySeedFile(seedFile)
        } else if let token = try nats.loadToken() {
            auth = .token(token.revealed)
        } else if let user = nats.user {
            auth = .userPassword(user: user, password: try nats.loadPassword()?.revealed ?? "")
        } else {
            auth = .none
        }
        var tls: NATSTLSOptions?
        if nats.tlsCA != nil || nats.tlsCert != nil || nats.tlsKey != nil {
            tls = NATSTLSOptions(
                caCertificatePath: nats.tlsCA, clientCertificatePath: nats.tlsCert, clientKeyPath: nats.tlsKey)
        }
        let reconnect: NATSReconnectPolicy
        switch nats.maxReconnects {
        case 0:
            reconnect = .disabled
        case ..<0:
            reconnect = NATSReconnectPolicy(
                maxAttempts: nil, baseDelay: nats.reconnectDelay, maxDelay: nats.reconnectDelay)
        default:
            reconnect = NATSReconnectPolicy(
                maxAttempts: nats.maxReconnects, baseDelay: nats.reconnectDelay, maxDelay: nats.reconnectDelay)
        }
        return NATSConnectionOptions(
            servers: try NATSServerAddress.parseList(nats.url),
            auth: auth,
            tls: tls,
            name: "wazuh-nats-gateway/\(self.wazuh.managerNode)",
            pingInterval: nats.pingInterval,
            reconnect: reconnect,
            requestTimeout: nats.requestTimeout
        )
    }
}
