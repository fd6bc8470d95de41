import Hummingbird
@testable import SteadfastWeb
import Testing

/// `FormFields`, the one reader of URL-encoded forms (pages and the CSRF check alike).
@Suite struct FormFieldsTests {
    @Test func decodesPlusAndEscapesAndKeepsTheLastOfARepeatedName() throws {
        let form = try FormFields(urlEncoded: "name=Ann+Lee&email=ann%40example.com&_csrf=a&_csrf=b&empty=&bare&=skipped&city=M%C3%BCnchen")
        #expect(form.values["name"] == "Ann Lee")
        #expect(form.values["email"] == "ann@example.com")
        #expect(form.values["_csrf"] == "b")
        #expect(form.values["empty"] == "" && form.values["bare"] == "")
        #expect(form.values[""] == nil)
        #expect(form.values["city"] == "München")
        // Raw values keep their spaces (passwords); the subscript trims and drops blank ones.
        let spaced = try FormFields(urlEncoded: "password=+secret+&blank=+++")
        #expect(spaced.values["password"] == " secret ")
        #expect(spaced["password"] == "secret" && spaced["blank"] == nil && !spaced.flag("blank"))
    }

    @Test func aBrokenEscapeIsABadRequest() {
        for body in ["code=%", "code=%G1", "code=%C3", "%zz=1"] {
            #expect(throws: HTTPError.self, "\(body)") { try FormFields(urlEncoded: body) }
        }
    }
}
