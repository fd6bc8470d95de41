import Foundation
import SteadfastDomain
import Testing

@Suite struct EmailAddressTests {
    @Test(arguments: ["alice@example.com", "  Bob.Smith+billing@Mail.Example.co.uk ", "x@y.io"])
    func acceptsDeliverableAddresses(_ raw: String) throws {
        let email = try EmailAddress(raw)
        #expect(email.normalized == raw.trimmingCharacters(in: .whitespaces).lowercased())
    }

    @Test(arguments: ["", "plain", "@example.com", "a@", "a@b", "a@@example.com", "a b@example.com", "a@exa mple.com",
                      "a@-example.com", "a@example..com", "<a@example.com>", "a@exam\nple.com"])
    func rejectsMalformedAddresses(_ raw: String) {
        #expect(throws: AccountError.self) { try EmailAddress(raw) }
    }

    @Test func rejectsOverlongAddresses() {
        let local = String(repeating: "a", count: 65)
        #expect(throws: AccountError.self) { try EmailAddress("\(local)@example.com") }
        let domain = String(repeating: "d", count: 250)
        #expect(throws: AccountError.self) { try EmailAddress("a@\(domain).com") }
    }

    @Test func normalisedFormIgnoresCase() throws {
        #expect(try EmailAddress("Alice@Example.COM").normalized == EmailAddress("alice@example.com").normalized)
        #expect(try EmailAddress("Alice@Example.COM").value == "Alice@Example.COM")
    }
}

@Suite struct PasswordPolicyTests {
    let policy = PasswordPolicy()

    @Test func acceptsAReasonablePassword() throws {
        try policy.validate("correct horse battery")
    }

    @Test(arguments: [
        ("short", "at least 10"),
        ("password123", "too common"),
        ("aaaaaaaaaaaa", "4 different"),
        (String(repeating: "é", count: 40), "at most 72 bytes"),
    ])
    func rejectsWeakPasswords(_ password: String, _ reason: String) {
        #expect {
            try policy.validate(password)
        } throws: { error in
            guard case AccountError.weakPassword(let message) = error else { return false }
            return message.contains(reason)
        }
    }

    @Test func rejectsTheEmailAddressAsPassword() throws {
        let email = try EmailAddress("longusername@example.com")
        #expect(throws: AccountError.weakPassword("password must not be your e-mail address")) {
            try policy.validate("LongUserName", email: email)
        }
        #expect(throws: AccountError.self) { try policy.validate("longusername@example.com", email: email) }
    }
}

@Suite struct AccountNameTests {
    @Test func trimsAndAccepts() throws {
        #expect(try Account.validateName("  Alice Smith ") == "Alice Smith")
    }

    @Test(arguments: ["", "   ", String(repeating: "x", count: 201), "evil\u{0}name", "line\nbreak"])
    func rejects(_ name: String) {
        #expect(throws: AccountError.self) { try Account.validateName(name) }
    }

    @Test func errorsNameTheirField() {
        #expect(AccountError.invalidEmail("x").field == "email")
        #expect(AccountError.duplicateEmail.field == "email")
        #expect(AccountError.weakPassword("x").field == "password")
        #expect(AccountError.invalidName("x").field == "name")
        #expect(AccountError.invalidCredentials.field == nil)
        #expect(!AccountError.invalidCredentials.message.lowercased().contains("unknown"))
    }
}
