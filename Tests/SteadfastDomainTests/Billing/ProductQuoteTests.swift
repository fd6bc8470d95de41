import Foundation
import SteadfastDomain
import Testing

@Suite struct ProductQuoteTests {
    let memory = ConfigurableOption(id: UUID(), name: "Memory", choices: [
        OptionChoice(id: UUID(), name: "2 GB", pricing: [:]),
        OptionChoice(id: UUID(), name: "8 GB", pricing: [.monthly: PricePoint(recurring: 500, setupFee: 100), .annually: PricePoint(recurring: 5000)]),
    ])

    func product(retired: Bool = false) -> Product {
        Product(
            id: UUID(), groupID: UUID(), name: "VPS", description: "", currency: .usd,
            pricing: [.monthly: PricePoint(recurring: 1000, setupFee: 2500), .annually: PricePoint(recurring: 10_000)],
            options: [memory], retired: retired, createdAt: Date()
        )
    }

    @Test func quotesAddOptionPricesForTheCycle() throws {
        let quote = try product().quote(cycle: .monthly, selections: [memory.id: memory.choices[1].id])
        #expect(quote.recurring.minorUnits == 1500)
        #expect(quote.setupFee.minorUnits == 2600)
        #expect(quote.optionsDescription == "Memory: 8 GB")
        let defaults = try product().quote(cycle: .annually, selections: [:])
        #expect(defaults.recurring.minorUnits == 10_000)
        #expect(defaults.optionsDescription == "Memory: 2 GB")
    }

    @Test func refusesWhatCannotBeOrdered() {
        #expect { try product().quote(cycle: .quarterly, selections: [:]) } throws: { ($0 as? BillingError)?.field == "cycle" }
        #expect { try product().quote(cycle: .monthly, selections: [UUID(): UUID()]) } throws: { ($0 as? BillingError)?.field == "options" }
        #expect { try product().quote(cycle: .monthly, selections: [memory.id: UUID()]) } throws: { ($0 as? BillingError)?.field == "options" }
        #expect { try product(retired: true).quote(cycle: .monthly, selections: [:]) } throws: { ($0 as? BillingError)?.kind == .unavailable }
        #expect(product().cycles == [.monthly, .annually])
    }
}
