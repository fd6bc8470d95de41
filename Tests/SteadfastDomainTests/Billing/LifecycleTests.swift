import SteadfastDomain
import Testing

/// Every (state, event) pair of every lifecycle: the legal ones move to the documented state,
/// every other one throws `illegalTransition` and leaves the state alone.
@Suite struct LifecycleTests {
    @Test func invoiceTransitions() throws {
        let legal: [InvoiceStatus: [InvoiceStatus.Event: InvoiceStatus]] = [
            .draft: [.issue: .unpaid, .cancel: .cancelled],
            .unpaid: [.pay: .paid, .cancel: .cancelled, .sendToCollections: .collections],
            .collections: [.pay: .paid, .cancel: .cancelled],
            .paid: [.refund: .refunded, .reopen: .unpaid],
        ]
        var checked = 0
        for state in InvoiceStatus.allCases {
            for event in InvoiceStatus.Event.allCases {
                var status = state
                if let target = legal[state]?[event] {
                    try status.apply(event)
                    #expect(status == target, "\(state) --\(event)--> \(target)")
                } else {
                    #expect { try status.apply(event) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
                    #expect(status == state)
                }
                checked += 1
            }
        }
        #expect(checked == 6 * 6)
        #expect(InvoiceStatus.allCases.filter(\.isPayable) == [.unpaid, .collections])
    }

    @Test func serviceTransitions() throws {
        let legal: [ServiceStatus: [ServiceStatus.Event: ServiceStatus]] = [
            .pending: [.activate: .active, .cancel: .cancelled, .terminate: .terminated],
            .active: [.suspend: .suspended, .cancel: .cancelled, .terminate: .terminated],
            .suspended: [.unsuspend: .active, .cancel: .cancelled, .terminate: .terminated],
        ]
        for state in ServiceStatus.allCases {
            for event in ServiceStatus.Event.allCases {
                var status = state
                if let target = legal[state]?[event] {
                    try status.apply(event)
                    #expect(status == target)
                } else {
                    #expect { try status.apply(event) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
                    #expect(status == state)
                }
            }
        }
        #expect(ServiceStatus.allCases.filter(\.isBillable) == [.active, .suspended])
    }

    @Test func orderTransitions() throws {
        let legal: [OrderStatus: [OrderStatus.Event: OrderStatus]] = [
            .pending: [.accept: .accepted, .cancel: .cancelled, .markFraud: .fraud],
        ]
        for state in OrderStatus.allCases {
            for event in OrderStatus.Event.allCases {
                var status = state
                if let target = legal[state]?[event] {
                    try status.apply(event)
                    #expect(status == target)
                } else {
                    #expect { try status.apply(event) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
                    #expect(status == state)
                }
            }
        }
    }

    @Test func theErrorSaysWhatWasRefused() {
        var status = InvoiceStatus.paid
        #expect(throws: BillingError(.illegalTransition, "an invoice that is paid cannot cancel", field: "status")) { try status.apply(.cancel) }
    }
}

/// ISO 3166-1 alpha-2: the assigned codes only (issue 16: `ZZ` was accepted).
@Suite struct CountryCodeTests {
    @Test func onlyAssignedCodesAreCountries() throws {
        #expect(CountryCode.names.count == 249)
        #expect(CountryCode.names.keys.allSatisfy { $0.count == 2 && $0.allSatisfy { $0.isASCII && $0.isUppercase } })
        for code in ["DE", "US", "GB", "FR", "JP", "AX", "SS", "BQ"] { #expect(CountryCode.isAssigned(code), "\(code)") }
        for code in ["ZZ", "AA", "QM", "XA", "XK", "UK", "EU", "de", "D", "DEU"] { #expect(!CountryCode.isAssigned(code), "\(code)") }
        #expect(CountryCode.names["DE"] == "Germany")
    }

    @Test func billingPlacesAndTaxRulesUseTheTable() throws {
        #expect(try BillingProfile.validatePlace(country: " de ", region: nil).0 == "DE")
        #expect { try BillingProfile.validatePlace(country: "ZZ", region: nil) } throws: { ($0 as? BillingError)?.field == "country" }
        #expect { try TaxRule(parsing: "ZZ=19") } throws: { ($0 as? BillingError)?.field == "tax_rules" }
        #expect(try TaxRule(parsing: "gb=20:VAT").country.uppercased() == "GB")
    }
}
