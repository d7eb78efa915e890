import Gateway

/// The `check-config` command's logic: load and validate a configuration exactly as `run` would,
/// and render the outcome. The executable only prints the result and exits with its code.
public enum ConfigurationCheck {
    /// Exit code for a configuration that loads and validates.
    public static let exitSuccess: Int32 = 0
    /// Exit code when the configuration has problems (every one is listed on standard error).
    public static let exitInvalid: Int32 = 1

    /// What `check-config` prints and returns.
    public struct Outcome: Sendable {
        public var exitCode: Int32
        /// The effective configuration (secrets redacted) when valid; empty otherwise.
        public var standardOutput: String
        /// Every problem, one per line, when invalid; empty otherwise.
        public var standardError: String
    }

    /// Loads `path` with `environment` overrides, validates it (files, permissions, keys) and
    /// returns the effective configuration, or every problem found.
    public static func run(configPath path: String, environment: [String: String]) -> Outcome {
        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration.load(fileAt: path, environment: environment)
            try configuration.validate()
        } catch let errors as ConfigurationErrors {
            var report = errors
            report.source = path
            return Outcome(exitCode: self.exitInvalid, standardOutput: "", standardError: report.description + "\n")
        } catch {
            return Outcome(
                exitCode: self.exitInvalid, standardOutput: "",
                standardError: "configuration \(path): \(error)\n")
        }
        return Outcome(
            exitCode: self.exitSuccess,
            standardOutput: "# effective configuration of \(path) (secrets redacted)\n"
                + configuration.effectiveDescription(),
            standardError: "")
    }
}
