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
            .paid: [.refund: .refunded],
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
        #expect(checked == 6 * 5)
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
