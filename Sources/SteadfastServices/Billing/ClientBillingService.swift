import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Clients' billing details and services: the client's own profile and services, and the staff
/// view of clients and service lifecycle actions.
public struct ClientBillingService: BillingService {
    public let dependencies: BillingDependencies

    public init(_ dependencies: BillingDependencies) {
        self.dependencies = dependencies
    }

    public func profile(clientID: UUID) async throws -> BillingProfile {
        try await BillingProfileRepository(database).find(clientID: clientID) ?? settings.defaultProfile(clientID: clientID)
    }

    /// What invoices are made out to: legal name, postal address, VAT id (empty: none).
    public struct Identity: Sendable {
        public var legalName: String?
        public var address: String?
        public var taxID: String?

        public init(legalName: String?, address: String?, taxID: String?) {
            self.legalName = legalName
            self.address = address
            self.taxID = taxID
        }
    }

    /// Sets where the client is (their tax follows) and, with `identity`, who invoices are made
    /// out to (copied onto each invoice when it is issued); staff may also set the tax exemption.
    public func updateProfile(clientID: UUID, country: String?, region: String?, taxExempt: Bool?, identity: Identity? = nil) async throws -> BillingProfile {
        let (country, region) = try BillingProfile.validatePlace(country: country, region: region)
        let checked = try identity.map { identity throws(BillingError) in
            try InvoiceParty.validate(name: identity.legalName, address: identity.address, taxID: identity.taxID, fields: ("legal_name", "address", "tax_id"))
        }
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
            if let checked {
                profile.legalName = checked.name
                profile.address = checked.address
                profile.taxID = checked.taxID
            }
            try await BillingProfileRepository(tx).update(profile, now: now)
            let fields = { (p: BillingProfile) in ["country": p.country ?? "", "region": p.region ?? "", "tax_exempt": String(p.taxExempt)] }
            try await AuditTrail.record(
                tx, .billingProfileUpdated, object: AuditObject("billing_profile", clientID), before: fields(before), after: fields(profile), account: clientID, now: now
            )
            return profile
        }
    }

    public func services(clientID: UUID?, status: ServiceStatus? = nil, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [ClientService] {
        try await ServiceRepository(database).list(clientID: clientID, status: status, sort: sort, limit: limit, offset: offset)
    }

    public func service(id: UUID, clientID: UUID?) async throws -> ClientService {
        guard let service = try await ServiceRepository(database).find(id: id, clientID: clientID) else { throw BillingError.notFound("service") }
        return service
    }

    /// Staff move a service through its lifecycle (suspend, unsuspend, terminate, cancel, activate).
    /// Cancelling or terminating it also cancels its unpaid renewal invoices (and their late-fee
    /// invoices), in the same transaction, so nothing more is reminded of or charged for it.
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
            if target == .cancelled || target == .terminated {
                _ = try await BillingLedger(tx: tx, settings: settings, now: now).cancelOpenRenewals(serviceID: id)
            }
            try await AuditTrail.record(
                tx, .serviceChanged, object: AuditObject("service", id), before: ["status": service.status.rawValue], after: ["status": target.rawValue],
                account: current.clientID, now: now
            )
        }
        return try await service(id: id, clientID: nil)
    }

    public func clients(search: String?, sort: ListSort? = nil, limit: Int = 50, offset: Int = 0) async throws -> [ClientRepository.Summary] {
        try await ClientRepository(database).list(search: search, sort: sort, limit: limit, offset: offset)
    }

    public func client(id: UUID) async throws -> ClientRepository.Summary {
        guard let client = try await ClientRepository(database).find(id: id) else { throw BillingError.notFound("client") }
        return client
    }
}
