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

/// JSON text for option selections (option id → choice id), sorted so equal maps store equally.
enum SelectionsCoding {
    static func encode(_ selections: [UUID: UUID]) -> String {
        let pairs = selections.map { (key: $0.key.uuidString.lowercased(), value: $0.value.uuidString.lowercased()) }.sorted { $0.key < $1.key }
        return "{" + pairs.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    static func decode(_ text: String) throws -> [UUID: UUID] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String] else {
            throw DatabaseError(.decoding, message: "selections are not a JSON object")
        }
        var result: [UUID: UUID] = [:]
        for (key, value) in object {
            guard let option = UUID(uuidString: key), let choice = UUID(uuidString: value) else {
                throw DatabaseError(.decoding, message: "selections hold a value that is not a UUID")
            }
            result[option] = choice
        }
        return result
    }
}
