/// How a gateway watching several managers (`managers:`) keeps their identities apart (contract 1.4).
///
/// Agent ids are only unique within one manager: two managers may both have agent `001`, and the
/// same transition of both would get the same deterministic event id, so JetStream would keep only
/// the first. With `managers:`, every id the gateway derives — event, batch, anomaly and flapping
/// ids, and so every `Nats-Msg-Id` — ends in `@{node}`, the manager's subject token
/// (``Subjects/nodeToken(_:)``). A gateway with the single `wazuh:` section derives the ids of
/// contract 1.2 unchanged (`scope` nil).
public struct ManagerScope: Sendable, Hashable {
    /// The manager's node name as configured (`manager_node`).
    public let managerNode: String

    public init(managerNode: String) {
        self.managerNode = managerNode
    }

    /// The manager's subject token, as in `{p}.manager.{node}.heartbeat`.
    public var token: String { Self.token(self.managerNode) }

    /// `node` as a subject token; two managers of one gateway must differ in it.
    public static func token(_ node: String) -> String { Subjects.nodeToken(node) }

    /// `id` scoped to this manager: `{id}@{node}`.
    public func scoped(_ id: String) -> String { id + "@" + self.token }

    /// `id` scoped to `scope`'s manager, or `id` unchanged without one (a single-manager gateway).
    public static func scoped(_ id: String, by scope: ManagerScope?) -> String {
        scope.map { $0.scoped(id) } ?? id
    }
}
