/// Chooses the host for a piece of work from the hosts' last known roles. Pure: tested without
/// servers.
public enum HostSelection {
    /// What the work needs.
    public enum Intent: Sendable, Equatable {
        /// Writes (and reads that must see them): the primary only.
        case write
        /// Read-only work that may tolerate a standby's bounded lag.
        case read
    }

    /// The primary to use: the only host claiming the role, or — if several do (a promoted
    /// standby while the old primary still runs) — the one on the newest timeline.
    public static func primary(_ roles: [HostRole]) -> Int? {
        var best: (index: Int, timeline: Int)?
        for (index, role) in roles.enumerated() {
            if case .primary(let timeline) = role, best == nil || timeline > best!.timeline {
                best = (index, timeline)
            }
        }
        return best?.index
    }

    /// Standbys whose lag is within `maxLag`, least lagged first.
    public static func usableStandbys(_ roles: [HostRole], maxLag: Double) -> [Int] {
        roles.enumerated().compactMap { index, role -> (Int, Double)? in
            if case .standby(let lag) = role, lag <= maxLag { return (index, lag) }
            return nil
        }
        .sorted { $0.1 < $1.1 }
        .map(\.0)
    }

    /// The host for `intent`, or `nil` when none is usable right now.
    public static func choose(_ intent: Intent, roles: [HostRole], attributes: TargetSessionAttributes, maxLag: Double) -> Int? {
        let primary = primary(roles)
        guard intent == .read else { return primary }
        let standby = usableStandbys(roles, maxLag: maxLag).first
        switch attributes {
        case .readWrite: return primary ?? standby
        case .preferStandby: return standby ?? primary
        case .any: return primary ?? standby
        }
    }
}
