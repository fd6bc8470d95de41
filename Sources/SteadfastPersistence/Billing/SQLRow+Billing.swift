import Foundation
import SteadfastDomain

extension SQLRow {
    /// A `YYYY-MM-DD` column as a ``BillingDate``.
    func billingDate(_ column: String) throws -> BillingDate {
        try BillingDate(iso: try string(column), field: column)
    }

    func optionalBillingDate(_ column: String) throws -> BillingDate? {
        try optionalString(column).map { try BillingDate(iso: $0, field: column) }
    }

    /// A minor-units column in `currency`.
    func money(_ column: String, _ currency: Currency) throws -> Money {
        Money(minorUnits: try int(column), currency: currency)
    }

    /// The row's `currency` column.
    func currency(_ column: String = "currency") throws -> Currency {
        try Currency(code: try string(column))
    }

    /// A text column holding one case of `T`.
    func enumeration<T: RawRepresentable>(_ column: String, as type: T.Type) throws -> T where T.RawValue == String {
        let raw = try string(column)
        guard let value = T(rawValue: raw) else {
            throw DatabaseError(.decoding, message: "column '\(column)' holds an unknown value")
        }
        return value
    }
}
