import Foundation

/// The `api_*` keys of a manager's section (`wazuh:` today; each entry of a `managers:` list takes
/// the same keys): where its REST API is and how to read it when `source: api`.
///
/// Parsed, checked and described here only, so every section that names a manager reads them alike.
public struct WazuhAPISettings: Sendable, Equatable {
    /// The environment variable holding the API password (instead of `api_password_file`).
    public static let passwordVariable = ConfigurationSchema.environmentPrefix + "API_PASSWORD"
    /// The keys, in file order.
    public static let keys = [
        "api_url", "api_user", "api_password_file", "api_ca", "api_poll_interval", "api_requests_per_minute",
        "api_page_size",
    ]

    /// `https://host:55000`.
    public var url: String?
    public var user: String?
    /// File whose first line is the password (secret: not readable by group or others).
    public var passwordFile: String?
    /// The password from ``passwordVariable``, when set.
    public var password: Secret?
    /// PEM CA certificates to trust instead of the system store.
    public var caFile: String?
    public var pollInterval: Duration = .seconds(5)
    /// Requests per minute the gateway allows itself (the API refuses more than 300 by default).
    public var requestsPerMinute: Int = 240
    /// Agents per `GET /agents` page (the API allows up to 100 000).
    public var pageSize: Int = 10_000

    public init() {}

    mutating func read(from reader: inout ConfigurationReader, section: String, environment: [String: String]) {
        self.url = reader.string(section, "api_url")
        self.user = reader.string(section, "api_user")
        self.passwordFile = reader.string(section, "api_password_file")
        self.caFile = reader.string(section, "api_ca")
        self.pollInterval = reader.duration(section, "api_poll_interval", default: self.pollInterval)
        self.requestsPerMinute = reader.int(
            section, "api_requests_per_minute", default: self.requestsPerMinute, range: 1...100_000)
        self.pageSize = reader.int(section, "api_page_size", default: self.pageSize, range: 1...100_000)
        self.password = environment[Self.passwordVariable].map(Secret.init)
    }

    /// What is missing or wrong for `source: api`, with key paths under `section`.
    func problems(section: String) -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func add(_ key: String, _ message: String) {
            problems.append(ConfigurationError(code: .invalidValue, keyPath: "\(section).\(key)", message: message))
        }
        if let url, !url.isEmpty {
            let parsed = URL(string: url)
            if parsed?.scheme?.lowercased() != "https" || parsed?.host == nil {
                add("api_url", "must be an https:// URL such as https://wazuh-manager:55000")
            } else if parsed?.user != nil || parsed?.password != nil {
                add("api_url", "must not hold credentials (use api_user and api_password_file)")
            }
        } else {
            add("api_url", "is required when \(section).source is api")
        }
        if user?.isEmpty ?? true { add("api_user", "is required when \(section).source is api") }
        if passwordFile == nil, password == nil {
            add("api_password_file", "is required when \(section).source is api (or set \(Self.passwordVariable))")
        }
        if pollInterval < .milliseconds(100) { add("api_poll_interval", "must be at least 100ms") }
        return problems
    }

    /// The password from the environment or the first line of ``passwordFile`` (checked like every secret file).
    /// - Throws: `ConfigurationErrors` when the file cannot be read (the message holds no content).
    public func loadPassword(section: String = "wazuh") throws -> Secret {
        if let password { return password }
        guard let passwordFile else {
            throw ConfigurationErrors([
                ConfigurationError(
                    code: .missingKey, keyPath: "\(section).api_password_file", message: "no API password configured")
            ])
        }
        let problems = ConfigurationFileCheck.check(passwordFile, kind: .secretText, secret: true)
        guard problems.isEmpty, let data = FileManager.default.contents(atPath: passwordFile) else {
            throw ConfigurationErrors([
                ConfigurationError(
                    code: .fileProblem, keyPath: "\(section).api_password_file",
                    message: problems.first ?? "file \(passwordFile) cannot be read")
            ])
        }
        let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first ?? ""
        return Secret(line.trimmingWhitespace())
    }
}
