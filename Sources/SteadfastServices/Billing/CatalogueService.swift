import Foundation
import SteadfastDomain
import SteadfastPersistence

/// The product catalogue: staff manage groups and products; clients browse the store.
public struct CatalogueService: BillingService {
    /// A new or changed product, as staff enter it.
    public struct ProductInput: Sendable {
        /// A configurable option and its choices.
        public struct OptionInput: Sendable {
            public var name: String
            public var choices: [(name: String, pricing: [BillingCycle: PricePoint])]
            public init(name: String, choices: [(name: String, pricing: [BillingCycle: PricePoint])]) {
                self.name = name
                self.choices = choices
            }
        }

        public var groupID: UUID
        public var name: String
        public var description: String
        public var pricing: [BillingCycle: PricePoint]
        public var options: [OptionInput]
        public var hidden: Bool
        public var retired: Bool
        public var stockLimit: Int?
        public var taxable: Bool

        public init(
            groupID: UUID, name: String, description: String = "", pricing: [BillingCycle: PricePoint], options: [OptionInput] = [],
            hidden: Bool = false, retired: Bool = false, stockLimit: Int? = nil, taxable: Bool = true
        ) {
            self.groupID = groupID
            self.name = name
            self.description = description
            self.pricing = pricing
            self.options = options
            self.hidden = hidden
            self.retired = retired
            self.stockLimit = stockLimit
            self.taxable = taxable
        }
    }

    /// A store heading with the products shown under it.
    public struct StoreGroup: Sendable {
        public let group: ProductGroup
        public let products: [Product]
    }

    public let dependencies: BillingDependencies

    public init(_ dependencies: BillingDependencies) {
        self.dependencies = dependencies
    }

    var repository: CatalogueRepository { CatalogueRepository(database) }

    public func createGroup(name: String, description: String = "", hidden: Bool = false, sortOrder: Int = 0) async throws -> ProductGroup {
        let group = ProductGroup(
            id: UUID(), name: try Self.validName(name), description: try Self.validDescription(description), hidden: hidden,
            sortOrder: try Self.validSortOrder(sortOrder), createdAt: clock.now()
        )
        try await database.transaction { tx in
            try await CatalogueRepository(tx).insert(group)
            try await AuditTrail.record(tx, .productGroupCreated, object: AuditObject("product_group", group.id), after: Self.auditFields(group), now: group.createdAt)
        }
        return group
    }

    public func updateGroup(id: UUID, name: String?, description: String?, hidden: Bool?, sortOrder: Int?) async throws -> ProductGroup {
        guard var group = try await repository.group(id: id) else { throw BillingError.notFound("product group") }
        let before = group
        if let name { group.name = try Self.validName(name) }
        if let description { group.description = try Self.validDescription(description) }
        if let hidden { group.hidden = hidden }
        if let sortOrder { group.sortOrder = try Self.validSortOrder(sortOrder) }
        let updated = group
        try await database.transaction { tx in
            try await CatalogueRepository(tx).update(updated)
            try await AuditTrail.record(
                tx, .productGroupUpdated, object: AuditObject("product_group", id), before: Self.auditFields(before), after: Self.auditFields(updated), now: self.clock.now()
            )
        }
        return group
    }

    public func groups() async throws -> [ProductGroup] {
        try await repository.groups()
    }

    public func createProduct(_ input: ProductInput) async throws -> Product {
        try await validate(input)
        let product = Product(
            id: UUID(), groupID: input.groupID, name: try Self.validName(input.name), description: try Self.validDescription(input.description),
            currency: settings.currency, pricing: input.pricing,
            options: input.options.map { option in
                ConfigurableOption(id: UUID(), name: option.name, choices: option.choices.map { OptionChoice(id: UUID(), name: $0.name, pricing: $0.pricing) })
            },
            hidden: input.hidden, retired: input.retired, stockLimit: input.stockLimit, stockSold: 0, taxable: input.taxable, createdAt: clock.now()
        )
        try await database.transaction { tx in
            try await CatalogueRepository(tx).insert(product)
            try await AuditTrail.record(tx, .productCreated, object: AuditObject("product", product.id), after: Self.auditFields(product), now: product.createdAt)
        }
        return product
    }

    /// Changes a product's fields and prices (its configurable options stay as created).
    public func updateProduct(id: UUID, _ input: ProductInput) async throws -> Product {
        try await validate(input, checkOptions: false)
        let now = clock.now()
        return try await database.transaction { tx in
            let repository = CatalogueRepository(tx)
            guard var product = try await repository.product(id: id) else { throw BillingError.notFound("product") }
            let before = product
            if let limit = input.stockLimit, limit < product.stockSold {
                throw BillingError.invalid("the stock limit cannot be below the \(product.stockSold) already sold", field: "stock_limit")
            }
            product.groupID = input.groupID
            product.name = try Self.validName(input.name)
            product.description = try Self.validDescription(input.description)
            product.pricing = input.pricing
            product.hidden = input.hidden
            product.retired = input.retired
            product.stockLimit = input.stockLimit
            product.taxable = input.taxable
            try await repository.update(product, now: now)
            try await AuditTrail.record(
                tx, .productUpdated, object: AuditObject("product", id), before: Self.auditFields(before), after: Self.auditFields(product), now: now
            )
            return product
        }
    }

    /// What the audit trail records of a group and a product.
    static func auditFields(_ group: ProductGroup) -> [String: String] {
        ["name": group.name, "description": group.description, "hidden": String(group.hidden), "sort_order": String(group.sortOrder)]
    }

    static func auditFields(_ product: Product) -> [String: String] {
        [
            "name": product.name, "description": product.description, "group_id": product.groupID.uuidString.lowercased(),
            "hidden": String(product.hidden), "retired": String(product.retired), "stock_limit": product.stockLimit.map(String.init) ?? "",
            "taxable": String(product.taxable), "pricing": product.pricing.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }.joined(separator: ","),
        ]
    }

    public func product(id: UUID) async throws -> Product? {
        try await repository.product(id: id)
    }

    public func products() async throws -> [Product] {
        try await repository.products()
    }

    /// One page of the staff product list (`CatalogueRepository.sortColumns`).
    public func products(state: CatalogueRepository.SaleState?, sort: ListSort?, limit: Int, offset: Int) async throws -> [Product] {
        try await repository.list(state: state, sort: sort, limit: limit, offset: offset)
    }

    /// What clients see: visible groups with their visible, orderable products.
    public func store() async throws -> [StoreGroup] {
        let products = try await repository.products(includeHidden: false, includeRetired: false)
        return try await repository.groups().filter { !$0.hidden }.map { group in
            StoreGroup(group: group, products: products.filter { $0.groupID == group.id })
        }.filter { !$0.products.isEmpty }
    }

    private func validate(_ input: ProductInput, checkOptions: Bool = true) async throws {
        guard try await repository.group(id: input.groupID) != nil else {
            throw BillingError.invalid("there is no such product group", field: "group_id")
        }
        guard !input.pricing.isEmpty else { throw BillingError.invalid("give a price for at least one billing cycle", field: "pricing") }
        for price in input.pricing.values { _ = try price.validated() }
        if let limit = input.stockLimit, !(0...Self.maximumCount).contains(limit) {
            throw BillingError.invalid("the stock limit must be from 0 to \(Self.maximumCount)", field: "stock_limit")
        }
        guard checkOptions else { return }
        for option in input.options {
            _ = try Self.validName(option.name, field: "options")
            guard !option.choices.isEmpty else { throw BillingError.invalid("option \(option.name) needs at least one choice", field: "options") }
            for choice in option.choices {
                _ = try Self.validName(choice.name, field: "options")
                for price in choice.pricing.values { _ = try price.validated(field: "options") }
            }
        }
    }

    /// The largest count (stock limit, sort order) the catalogue stores: PostgreSQL's `INTEGER`.
    static let maximumCount = Int(Int32.max)

    static func validSortOrder(_ value: Int) throws(BillingError) -> Int {
        guard (-maximumCount...maximumCount).contains(value) else {
            throw BillingError.invalid("the sort order must be from -\(maximumCount) to \(maximumCount)", field: "sort_order")
        }
        return value
    }

    static func validName(_ raw: String, field: String = "name") throws(BillingError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200, !name.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw BillingError.invalid("a name of 1-200 characters is required", field: field)
        }
        return name
    }

    static func validDescription(_ raw: String, field: String = "description") throws(BillingError) -> String {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 2000 else { throw BillingError.invalid("at most 2000 characters", field: field) }
        return text
    }
}
