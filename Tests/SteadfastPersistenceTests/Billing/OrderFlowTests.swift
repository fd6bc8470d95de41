import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import Testing
import SteadfastTestSupport

@Suite struct OrderFlowTests {
    @Test(arguments: EngineKind.allCases)
    func cartToOrderToInvoiceToPaidToActiveServices(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let memory = CatalogueService.ProductInput.OptionInput(name: "Memory", choices: [
                (name: "2 GB", pricing: [:]), (name: "8 GB", pricing: [.monthly: PricePoint(recurring: 250)]),
            ])
            let product = try await f.product(options: [memory])
            let client = try await f.client("Anna", country: "DE")
            let eight = product.options[0].choices[1]
            _ = try await f.orders.addToCart(clientID: client, productID: product.id, cycle: .monthly, selections: [product.options[0].id: eight.id])
            #expect(try await f.orders.cart(clientID: client).count == 1)

            let placed = try await f.orders.checkout(clientID: client, idempotencyKey: nil).value
            #expect(try await f.orders.cart(clientID: client).isEmpty)
            let year = f.today.year
            #expect(placed.invoiceNumber == "INV-\(year)-000001")
            // 12.50 recurring + 5.00 setup, 19% VAT per line: 2.38 + 0.95.
            let invoice = try await f.invoices.invoice(id: f.invoiceID(placed), clientID: client)
            #expect(invoice.status == .unpaid)
            #expect(invoice.lines.map(\.amounts.net.minorUnits) == [1250, 500])
            #expect(invoice.lines.map(\.amounts.tax.minorUnits) == [238, 95])
            #expect(invoice.subtotal.minorUnits == 1750 && invoice.tax.minorUnits == 333 && invoice.total.minorUnits == 2083)
            #expect(invoice.taxName == "VAT" && invoice.taxRate?.millipercent == 19_000)
            #expect(invoice.dueDate == f.today.adding(days: 7))
            #expect(invoice.lines[0].description.contains("Memory: 8 GB"))
            #expect(invoice.lines[0].periodStart == f.today)

            let order = try await f.orders.order(id: UUID(uuidString: placed.orderID)!, clientID: client)
            #expect(order.status == .pending)
            #expect(try await f.clients.services(clientID: client).isEmpty)

            let paid = try await f.payments.pay(
                clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "k1"
            )
            #expect(paid.value.result == "paid")
            #expect(paid.value.invoice.balanceDue == 0)
            // Paying the order's invoice accepted the order: one active service, due a month later.
            #expect(try await f.orders.order(id: order.id, clientID: nil).status == .accepted)
            let services = try await f.clients.services(clientID: client)
            #expect(services.count == 1)
            #expect(services[0].status == .active)
            #expect(services[0].recurring.minorUnits == 1250)
            #expect(services[0].nextDueDate == f.today.adding(months: 1))
            #expect(try await f.invoices.invoice(id: invoice.id, clientID: nil).lines[0].serviceID == services[0].id)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func staffAcceptanceBeforePaymentCreatesPendingServices(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client(country: "FR") // no rule: no tax
            let placed = try await f.order(product, for: client, cycle: .annually)
            let invoice = try await f.invoices.invoice(id: f.invoiceID(placed), clientID: nil)
            #expect(invoice.tax.isZero && invoice.total.minorUnits == 10_000)
            let accepted = try await f.orders.accept(orderID: UUID(uuidString: placed.orderID)!)
            #expect(accepted.status == .accepted)
            #expect(try await f.clients.services(clientID: client).map(\.status) == [.pending])
            await #expect { try await f.orders.accept(orderID: accepted.id) } throws: { ($0 as? BillingError)?.kind == .illegalTransition }
            _ = try await f.payments.pay(clientID: client, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "x")
            let service = try #require(try await f.clients.services(clientID: client).first)
            #expect(service.status == .active)
            #expect(service.nextDueDate == f.today.adding(months: 12))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func cancellingAnOrderCancelsItsInvoiceAndReturnsStock(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product(stock: 2)
            let client = try await f.client()
            let placed = try await f.order(product, for: client, count: 2)
            #expect(try await f.catalogue.product(id: product.id)?.stockRemaining == 0)
            await #expect { try await f.orders.addToCart(clientID: client, productID: product.id, cycle: .monthly, selections: [:]) } throws: {
                ($0 as? BillingError)?.kind == .unavailable
            }
            let cancelled = try await f.orders.cancel(orderID: UUID(uuidString: placed.orderID)!)
            #expect(cancelled.status == .cancelled)
            #expect(try await f.invoices.invoice(id: f.invoiceID(placed), clientID: nil).status == .cancelled)
            #expect(try await f.catalogue.product(id: product.id)?.stockRemaining == 2)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func theLastUnitOfStockIsSoldOnce(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product(stock: 1)
            var clients: [UUID] = []
            for i in 0..<8 {
                let client = try await f.client("C\(i)")
                _ = try await f.orders.addToCart(clientID: client, productID: product.id, cycle: .monthly, selections: [:])
                clients.append(client)
            }
            // nil: the checkout succeeded; otherwise the error it threw.
            let failures = await withTaskGroup(of: (any Error)?.self) { group in
                for client in clients {
                    group.addTask {
                        do {
                            _ = try await f.orders.checkout(clientID: client, idempotencyKey: nil)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                return await group.reduce(into: [(any Error)?]()) { $0.append($1) }
            }
            #expect(failures.filter { $0 == nil }.count == 1)
            // Every other checkout lost the race for the stock — not to a busy database, a
            // deadlock or any other error that would also leave the stock unsold.
            for case let error? in failures {
                let billing = error as? BillingError
                #expect(billing?.kind == .unavailable && billing?.message.hasSuffix("is out of stock") == true, "a losing checkout failed with \(error)")
            }
            #expect(try await f.catalogue.product(id: product.id)?.stockSold == 1)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aRetriedCheckoutPlacesOneOrder(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let client = try await f.client()
            _ = try await f.orders.addToCart(clientID: client, productID: product.id, cycle: .monthly, selections: [:])
            let first = try await f.orders.checkout(clientID: client, idempotencyKey: "checkout-1")
            let second = try await f.orders.checkout(clientID: client, idempotencyKey: "checkout-1")
            #expect(!first.replayed && second.replayed)
            #expect(first.json == second.json)
            #expect(try await f.orders.orders(clientID: client).count == 1)
            await #expect { try await f.orders.checkout(clientID: client, idempotencyKey: "checkout-2") } throws: { ($0 as? BillingError)?.kind == .conflict }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func clientsOnlyReachTheirOwnThings(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let f = try BillingFixture(db: db)
            let product = try await f.product()
            let alice = try await f.client("Alice")
            let bob = try await f.client("Bob")
            let services = try await f.activeServices(product, for: alice)
            let invoice = try #require(try await f.invoices.invoices(clientID: alice).first)
            let payment = try #require(try await f.payments.payments(clientID: alice).first)
            await #expect { try await f.invoices.invoice(id: invoice.id, clientID: bob) } throws: { ($0 as? BillingError)?.kind == .notFound }
            await #expect { try await f.clients.service(id: services[0].id, clientID: bob) } throws: { ($0 as? BillingError)?.kind == .notFound }
            await #expect { try await f.payments.payment(id: payment.id, clientID: bob) } throws: { ($0 as? BillingError)?.kind == .notFound }
            await #expect { try await f.orders.order(id: invoice.orderID!, clientID: bob) } throws: { ($0 as? BillingError)?.kind == .notFound }
            await #expect {
                try await f.payments.pay(clientID: bob, invoiceID: invoice.id, gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: "b")
            } throws: { ($0 as? BillingError)?.kind == .notFound }
            #expect(try await f.invoices.invoices(clientID: bob).isEmpty)
        }
    }
}
