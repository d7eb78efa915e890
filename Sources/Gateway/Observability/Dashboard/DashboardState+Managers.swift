import WazuhSource

/// Several managers on one dashboard: each records under its node; the snapshot's `fleet` and
/// `nodes` are every manager's together.
extension DashboardState {
    /// The index of `manager` in the snapshot's managers: the first for nil, and a new entry for a
    /// node that was not listed at start (never lost, never crashing).
    static func managerIndex(_ manager: String?, in state: inout State) -> Int {
        guard let manager else { return 0 }
        if let index = state.snapshot.managers.firstIndex(where: { $0.node == manager }) { return index }
        state.snapshot.managers.append(DashboardSnapshot.Manager(node: manager))
        return state.snapshot.managers.count - 1
    }

    /// Recomputes the totals and the per-node table from each manager's counts. With more than
    /// one manager a cluster node is shown as `manager / node`, since nodes of different managers
    /// may share a name.
    static func mergeFleets(_ state: inout State) {
        var total = DashboardSnapshot.Counts()
        for manager in state.snapshot.managers {
            total.total += manager.fleet.total
            total.active += manager.fleet.active
            total.disconnected += manager.fleet.disconnected
            total.pending += manager.fleet.pending
            total.neverConnected += manager.fleet.neverConnected
        }
        state.snapshot.fleet = total
        let several = state.snapshot.managers.count > 1
        var nodes: [DashboardSnapshot.NodeCounts] = []
        for manager in state.snapshot.managers {
            for (node, counts) in (state.nodesByManager[manager.node] ?? [:]).sorted(by: { $0.key < $1.key }) {
                nodes.append(.init(node: several ? "\(manager.node) / \(node)" : node, counts: Self.counts(counts)))
            }
        }
        state.snapshot.nodes = nodes
    }

    static func sum(_ counts: some Sequence<FleetCounts>) -> FleetCounts {
        var total = FleetCounts()
        for counts in counts {
            total.total += counts.total
            total.active += counts.active
            total.disconnected += counts.disconnected
            total.pending += counts.pending
            total.neverConnected += counts.neverConnected
        }
        return total
    }
}
