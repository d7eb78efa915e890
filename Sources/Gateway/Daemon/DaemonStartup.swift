import Logging
import Metrics
import Prometheus

/// The steps of `wazuh-nats-gateway run` before the daemon starts, kept out of the executable so
/// they are testable: find and load the configuration, validate it, and (executable only) bootstrap
/// the process-wide logging and metrics systems.
public enum DaemonStartup {
    /// Environment variable naming the configuration file when `--config` is not given.
    public static let configPathVariable = "WAZUH_NATS_GATEWAY_CONFIG"

    /// Exit status when the configuration is missing or invalid, or the daemon cannot start.
    public static let exitFailure: Int32 = 1

    /// The configuration file: `--config`, else `WAZUH_NATS_GATEWAY_CONFIG`, else `nil`.
    public static func configurationPath(argument: String?, environment: [String: String]) -> String? {
        if let argument, !argument.isEmpty { return argument }
        if let variable = environment[Self.configPathVariable], !variable.isEmpty { return variable }
        return nil
    }

    /// Loads and validates the configuration as `run` needs it.
    ///
    /// `validate()` checks every referenced file, but a manager's `global.db` (and `client.keys`) being absent
    /// or unreadable at start is not fatal for the daemon: Wazuh may simply not have created it yet.
    /// Those problems are returned as warnings to log; the daemon retries reading and reports the
    /// source as not ready. Every other problem throws `ConfigurationErrors`.
    ///
    /// `WAZUH_NATS_GATEWAY_CONFIG` is removed from the environment before loading, since the loader
    /// refuses unknown `WAZUH_NATS_GATEWAY_*` override variables.
    public static func loadConfiguration(
        path: String, environment: [String: String]
    ) throws -> (configuration: GatewayConfiguration, warnings: [ConfigurationError]) {
        var environment = environment
        environment.removeValue(forKey: Self.configPathVariable)
        let configuration = try GatewayConfiguration.load(fileAt: path, environment: environment)
        let sourceKeys = Set(
            configuration.watchedManagers.indices.flatMap { index in
                ["db_path", "client_keys_path"].map { "\(configuration.managerKeyPrefix(index)).\($0)" }
            })
        var problems = configuration.combinationProblems()
        var warnings: [ConfigurationError] = []
        for problem in configuration.fileProblems() {
            if let key = problem.keyPath, sourceKeys.contains(key) {
                warnings.append(problem)
            } else {
                problems.append(problem)
            }
        }
        if !problems.isEmpty {
            throw ConfigurationErrors(problems, source: path)
        }
        return (configuration, warnings)
    }

    /// Sets glibc's allocator up for the daemon (one arena, fixed mapping and trimming thresholds:
    /// ``HeapReturn``). Call first thing in the process, on the main thread: an arena cap applies only
    /// to arenas created after it, and every thread that allocates before it may get its own.
    public static func configureAllocator() {
        HeapReturn.limitArenas()
    }

    /// Bootstraps the global logging system (format and level from `monitoring`, to standard error)
    /// and the global metrics system over a new Prometheus registry. Call once, from the executable only.
    public static func bootstrapProcessGlobals(
        configuration: GatewayConfiguration
    ) -> (registry: PrometheusCollectorRegistry, factory: PrometheusMetricsFactory) {
        LoggingSystem.bootstrap(
            GatewayLogging.handlerFactory(
                format: configuration.monitoring.logFormat, level: configuration.monitoring.logLevel,
                output: .standardError),
            metadataProvider: nil)
        let registry = PrometheusCollectorRegistry()
        let factory = GatewayMetrics.makePrometheusFactory(registry: registry)
        MetricsSystem.bootstrap(factory)
        return (registry, factory)
    }
}
