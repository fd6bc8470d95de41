import SteadfastDomain
import SteadfastPersistence

/// What the billing services work on: the database, the billing settings and the clock, as one
/// value, so every service is built the same way (``BillingService/init(database:settings:clock:)``).
public struct BillingDependencies: Sendable {
    let database: any SQLDatabase
    let settings: BillingSettings
    let clock: any WallClock
}

/// A billing service over ``BillingDependencies``: orders, invoices, the catalogue, clients'
/// billing, the recurring run. A service stores the value and reads `database`, `settings` and
/// `clock` through it.
public protocol BillingService: Sendable {
    var dependencies: BillingDependencies { get }
    init(_ dependencies: BillingDependencies)
}

extension BillingService {
    public init(database: any SQLDatabase, settings: BillingSettings, clock: any WallClock) {
        self.init(BillingDependencies(database: database, settings: settings, clock: clock))
    }

    var database: any SQLDatabase { dependencies.database }
    var settings: BillingSettings { dependencies.settings }
    var clock: any WallClock { dependencies.clock }
}
