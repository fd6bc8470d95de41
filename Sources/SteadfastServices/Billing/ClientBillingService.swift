import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Clients' billing details and services: the client's own profile and services, and the staff
/// view of clients and service lifecycle actions.
public struct ClientBillingService: Sendable {
    let database: any SQLDatabase
    let settings: BillingSettings
    let clock: any WallClock

    public init(database: any SQLDatabase, settings: BillingSettings, clock: any WallClock) {
        self.database = database
        self.settings = settings
        self.clock = clock
    }

    public func profile(clientID: UUID) async throws -> BillingProfile {
        try await BillingProfileRepository(database).find(clientID: clientID) ?? settings.defaultProfile(clientID: clientID)
    }

    /// Sets where the client is (their tax follows); staff may also set the tax exemption.
    public func updateProfile(clientID: UUID, country: String?, region: String?, taxExempt: Bool?) async throws -> BillingProfile {
        let (country, region) = try BillingProfile.validatePlace(country: country, region: region)
        let settings = self.settings
        let now = clock.now()
        return try await database.transaction { tx in
            var profile = try await BillingLedger(tx: tx, settings: settings, now: now).lockClient(clientID)
            let before = profile
            // Tax follows the country: clearing it would take the client out of every tax rule.
            // Once a country is known (given, or billing.default_country) it can only be changed.
            if country == nil, profile.country != nil {
                throw BillingError.invalid("country is required: give the two-letter code of the country you are billed in", field: "country")
            }
            profile.country = country
            profile.region = region
            if let taxExempt { profile.taxExempt = taxExempt }
            try await BillingProfileRepository(tx).update(profile, now: now)
            let fields = { (p: BillingProfile) in ["country": p.country ?? "", "region": p.region ?? "", "tax_exempt": String(p.taxExempt)] }
            try await AuditTrail.record(
                tx, .billingProfileUpdated, object: AuditObject("billing_profile", clientID), before: fields(before), after: fields(profile), account: clientID, now: now
            )
            return profile
        }
    }

    public func services(clientID: UUID?, status: ServiceStatus? = nil, limit: Int = 50, offset: Int = 0) async throws -> [ClientService] {
        try await ServiceRepository(database).list(clientID: clientID, status: status, limit: limit, offset: offset)
    }

    public func service(id: UUID, clientID: UUID?) async throws -> ClientService {
        guard let service = try await ServiceRepository(database).find(id: id, clientID: clientID) else { throw BillingError.notFound("service") }
        return service
    }

    /// Staff move a service through its lifecycle (suspend, unsuspend, terminate, cancel, activate).
    public func changeService(id: UUID, event: ServiceStatus.Event) async throws -> ClientService {
        let current = try await service(id: id, clientID: nil)
        let settings = self.settings
        let now = clock.now()
        try await database.transaction { tx in
            _ = try await BillingLedger(tx: tx, settings: settings, now: now).lockClient(current.clientID)
            let services = ServiceRepository(tx)
            guard let service = try await services.find(id: id, lock: true) else { throw BillingError.notFound("service") }
            let target = try service.status.next(on: event)
            guard try await services.transition(id: id, from: service.status, to: target, reason: event == .suspend ? .staff : nil, now: now) else {
                throw BillingError.conflict("the service changed at the same moment; reload and try again")
            }
            try await AuditTrail.record(
                tx, .serviceChanged, object: AuditObject("service", id), before: ["status": service.status.rawValue], after: ["status": target.rawValue],
                account: current.clientID, now: now
            )
        }
        return try await service(id: id, clientID: nil)
    }

    public func clients(search: String?, limit: Int = 50, offset: Int = 0) async throws -> [ClientRepository.Summary] {
        try await ClientRepository(database).list(search: search, limit: limit, offset: offset)
    }

    public func client(id: UUID) async throws -> ClientRepository.Summary {
        guard let client = try await ClientRepository(database).find(id: id) else { throw BillingError.notFound("client") }
        return client
    }
}
