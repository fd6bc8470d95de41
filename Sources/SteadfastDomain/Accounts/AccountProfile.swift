/// What a client keeps up to date about themselves besides name and e-mail: company, phone and
/// a contact address. Every field is optional (empty), bounded, and free of control characters
/// (the address may have line breaks).
public struct AccountProfile: Sendable, Equatable {
    public var company: String
    public var phone: String
    public var address: String

    public init(company: String = "", phone: String = "", address: String = "") {
        self.company = company
        self.phone = phone
        self.address = address
    }

    /// Checks and trims each field; throws ``AccountError/invalidProfile(field:_:)`` naming the
    /// first bad one.
    public static func validated(company: String, phone: String, address: String) throws(AccountError) -> AccountProfile {
        let company = try field("company", company, maximum: 200, multiline: false)
        let phone = try field("phone", phone, maximum: 40, multiline: false)
        if !phone.isEmpty, !phone.allSatisfy({ $0.isASCII && ($0.isNumber || " +-().".contains($0)) }) {
            throw .invalidProfile(field: "phone", "phone may hold only digits, spaces and + - ( ) .")
        }
        let address = try field("address", address, maximum: 500, multiline: true)
        return AccountProfile(company: company, phone: phone, address: address)
    }

    static func field(_ name: String, _ raw: String, maximum: Int, multiline: Bool) throws(AccountError) -> String {
        let value = raw.trimmingASCIIWhitespace().replacingCRLF()
        guard value.count <= maximum else { throw .invalidProfile(field: name, "\(name) must be at most \(maximum) characters long") }
        let forbidden = value.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 && !(multiline && scalar == "\n")) || scalar.value == 0x7F
        }
        guard !forbidden else { throw .invalidProfile(field: name, "\(name) must not contain control characters") }
        return value
    }
}

extension String {
    func replacingCRLF() -> String {
        var output = ""
        var previousCR = false
        for scalar in unicodeScalars {
            if scalar == "\r" { output.unicodeScalars.append("\n"); previousCR = true; continue }
            if scalar == "\n" && previousCR { previousCR = false; continue }
            previousCR = false
            output.unicodeScalars.append(scalar)
        }
        return output
    }
}
