#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Staff permissions and client permissions alike: an enum of names that requests send as a
/// list and the database stores as one column of text. The one reading and writing of them.
public protocol PermissionName: RawRepresentable, CaseIterable, Hashable, Comparable, Sendable where RawValue == String {
    /// The most names one list may hold; `nil`: no limit.
    static var mostNames: Int? { get }
}

/// Access-control input that could not be read — a list of permission names
/// (``PermissionName/parse(_:)``), a role name — with a message saying why; `StaffPolicy.Invalid`
/// and `ClientAccessPolicy.Invalid` are this type.
public struct AccessInputInvalid: Error, Sendable, Equatable {
    public let message: String

    public init(message: String) {
        self.message = message
    }
}

extension PermissionName {
    public static var mostNames: Int? { nil }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Reads a list of permission names; an unknown name is an error naming it (cut to 50
    /// characters) and the known ones.
    public static func parse(_ names: [String]) throws(AccessInputInvalid) -> Set<Self> {
        if let mostNames, names.count > mostNames { throw AccessInputInvalid(message: "at most \(mostNames) permissions") }
        var result: Set<Self> = []
        for name in names {
            guard let permission = Self(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw AccessInputInvalid(message: "unknown permission \"\(name.prefix(50))\" (known: \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            result.insert(permission)
        }
        return result
    }

    /// Space-separated names, sorted: how a set is stored in one column.
    public static func text(_ set: Set<Self>) -> String {
        set.sorted().map(\.rawValue).joined(separator: " ")
    }

    /// Reads ``text(_:)`` back; names no longer known are dropped (a downgrade never widens access).
    public static func set(fromText text: String) -> Set<Self> {
        Set(text.split(separator: " ").compactMap { Self(rawValue: String($0)) })
    }
}
