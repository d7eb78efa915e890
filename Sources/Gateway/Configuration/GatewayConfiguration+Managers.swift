import WireContract
import Yams

/// Several managers from one gateway: `managers:` is a list whose entries take exactly the keys of
/// the `wazuh:` section, parsed by the same function (``GatewayConfiguration/Wazuh/init(reading:from:)``),
/// so a key added to `wazuh:` applies to every entry too.
///
/// ```yaml
/// managers:
///   - manager_node: eu-1
///     db_path: /srv/wazuh-eu/queue/db/global.db
///   - manager_node: us-1
///     source: wazuh-db
///     socket_path: /srv/wazuh-us/queue/db/wdb
/// ```
extension GatewayConfiguration {
    /// Whether the configuration lists its managers under `managers:` (event ids are then scoped by
    /// manager) rather than the single `wazuh:` section.
    public var hasManagerList: Bool { !self.managers.isEmpty }

    /// Every manager the daemon watches: the `managers:` entries, or the single `wazuh:` section.
    public var watchedManagers: [Wazuh] { self.managers.isEmpty ? [self.wazuh] : self.managers }

    /// The key-path prefix of manager `index`'s keys in messages: `wazuh` or `managers[N]`.
    public func managerKeyPrefix(_ index: Int) -> String {
        self.hasManagerList ? "\(ConfigurationSchema.managersSection)[\(index)]" : "wazuh"
    }

    /// Problems of the `managers:` list as a whole: two entries naming the same manager, or names
    /// that become the same subject token (`eu.1` and `eu_1`: their heartbeats would share a subject).
    func managerListProblems() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        var seen: [String: (index: Int, node: String)] = [:]
        for (index, manager) in self.managers.enumerated() where !manager.managerNode.isEmpty {
            let keyPath = "\(self.managerKeyPrefix(index)).manager_node"
            let token = ManagerScope.token(manager.managerNode)
            guard let first = seen[token] else {
                seen[token] = (index, manager.managerNode)
                continue
            }
            let message =
                first.node == manager.managerNode
                ? "manager_node \"\(manager.managerNode)\" is already used by managers[\(first.index)]; "
                    + "every manager needs its own name (events and their ids are scoped by it)"
                : "manager_node \"\(manager.managerNode)\" and managers[\(first.index)]'s \"\(first.node)\" become "
                    + "the same subject token \"\(token)\"; give the managers names that differ in letters, digits, '_' or '-'"
            problems.append(
                ConfigurationError(
                    code: .invalidCombination, keyPath: keyPath, message: message, origin: self.keyOrigins[keyPath]))
        }
        return problems
    }
}

extension GatewayConfiguration.Wazuh {
    /// Reads one manager's keys from the mapping indexed as `section`: the `wazuh:` section or one
    /// `managers:` entry (`managers[N]`). The one place these keys are parsed.
    init(reading section: String, from reader: inout ConfigurationReader) {
        self.init(managerNode: reader.requiredString(section, "manager_node", default: ""))
        if let root = reader.string(section, "install_root") {
            self.installRoot = root
        }
        self.explicitDBPath = reader.string(section, "db_path")
        self.explicitClientKeysPath = reader.string(section, "client_keys_path")
        self.pollInterval = reader.duration(section, "poll_interval", default: self.pollInterval)
        self.source = reader.enumeration(section, "source", default: self.source)
        self.explicitSocketPath = reader.string(section, "socket_path")
        self.socketPollInterval = reader.duration(section, "socket_poll_interval", default: self.socketPollInterval)
        self.socketFullSweepInterval = reader.duration(
            section, "socket_full_sweep_interval", default: self.socketFullSweepInterval)
        self.api.read(from: &reader, section: section, environment: reader.environment)
    }
}

extension ConfigurationReader {
    /// The `managers:` entries, each read like the `wazuh:` section; nil when the file has no
    /// `managers:`. Reports `managers:` combined with `wazuh:` (in the file or overridden from the
    /// environment) and an empty list.
    mutating func readManagers() -> [GatewayConfiguration.Wazuh]? {
        guard let sections = self.managerSections else { return nil }
        let managersKey = ConfigurationSchema.managersSection
        let wazuhKeys = ConfigurationSchema.keys(of: ConfigurationSchema.managerEntryKeysSection)
        if self.sections["wazuh"] != nil || wazuhKeys.contains(where: { self.hasValue("wazuh", $0) }) {
            self.report(
                .invalidCombination, managersKey,
                "use either the wazuh: section (one manager) or managers: (a list of them), not both; "
                    + "move the wazuh: keys into an entry of managers:",
                at: self.sectionOrigins[managersKey])
        }
        if sections.isEmpty {
            self.report(
                .invalidValue, managersKey,
                "must list at least one manager (each a mapping with the keys of the wazuh: section); "
                    + "remove managers: to use the wazuh: section",
                at: self.sectionOrigins[managersKey])
        }
        return sections.map { GatewayConfiguration.Wazuh(reading: $0, from: &self) }
    }

    /// Indexes `managers:`: a list of mappings, entry N as section `managers[N]`.
    mutating func indexManagers(_ node: Node, at origin: ConfigurationError.Origin?) {
        let name = ConfigurationSchema.managersSection
        self.sectionOrigins[name] = origin
        var names: [String] = []
        defer { self.managerSections = names }
        if Self.isNull(node) { return }
        guard case .sequence(let entries) = node else {
            self.report(
                .wrongType, name,
                "expected a list of managers (each a mapping with the keys of the wazuh: section), "
                    + "found a \(Self.shapeName(node))", at: origin)
            return
        }
        for (index, entry) in entries.enumerated() {
            let section = "\(name)[\(index)]"
            let entryOrigin = Self.origin(of: entry) ?? origin
            guard case .mapping(let mapping) = entry else {
                self.report(
                    .wrongType, section,
                    "expected a mapping with the keys of the wazuh: section, found a \(Self.shapeName(entry))",
                    at: entryOrigin)
                continue
            }
            self.sectionOrigins[section] = entryOrigin
            self.indexSection(section, entries: mapping, keysOf: ConfigurationSchema.managerEntryKeysSection)
            names.append(section)
        }
    }
}
