import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

@Suite struct ClientBillingServiceTests {
    /// Tax follows the billing country: a client who could clear it would pay no tax at all.
    @Test(arguments: EngineKind.allCases)
    func aBillingCountryOnceKnownCanBeChangedButNotCleared(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let client = try await f.client(country: "DE")
            for cleared in [nil, "", "  "] as [String?] {
                await #expect { try await f.clients.updateProfile(clientID: client, country: cleared, region: nil, taxExempt: nil) } throws: {
                    ($0 as? BillingError)?.field == "country"
                }
            }
            #expect(try await f.clients.profile(clientID: client).country == "DE")
            #expect(try await f.clients.updateProfile(clientID: client, country: "us", region: "NY", taxExempt: nil).country == "US")

            // billing.default_country counts as known: a new client starts with it and keeps one.
            let withDefault = try BillingFixture(db: db) { $0.defaultCountry = "DE" }
            let newcomer = try await withDefault.client(country: nil)
            #expect(try await withDefault.clients.profile(clientID: newcomer).country == "DE")
            await #expect { try await withDefault.clients.updateProfile(clientID: newcomer, country: nil, region: nil, taxExempt: nil) } throws: {
                ($0 as? BillingError)?.field == "country"
            }
        }
    }
}
