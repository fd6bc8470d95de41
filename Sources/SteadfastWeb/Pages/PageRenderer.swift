import Foundation
import Hummingbird
import Mustache
import SteadfastDomain

/// Renders the HTML pages: a page template (a `.mustache` file under
/// `Sources/SteadfastWeb/Templates`, named by its path without the extension, e.g.
/// `billing/admin-invoice`) inside the one layout (`layout.mustache`), which adds the
/// navigation (current page marked), staff notices, flash messages from the session and the
/// error summary of a form that failed validation. docs/architecture.md, "How to write a page".
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// Warnings every staff page shows above its content (e.g. a test gateway left enabled).
    let staffNotices: [String]

    init(staffNotices: [String], library: MustacheLibrary) {
        self.staffNotices = staffNotices
        self.library = library
    }

    /// The renderer with every template of the target's `Templates` resource directory. A node
    /// loads it once and hands it to whatever renders (routes, mail attachments).
    public static func load(staffNotices: [String] = []) async throws -> PageRenderer {
        _ = escapingRegistered
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Templates").path else {
            throw PageTemplatesMissing()
        }
        return PageRenderer(staffNotices: staffNotices, library: try await MustacheLibrary(directory: directory))
    }

    struct PageTemplatesMissing: Error {}

    /// swift-mustache resolves a template's `CONTENT_TYPE` pragma in its one process-wide table
    /// (the library offers no other way in); the portal's escaping is added to it once, before
    /// the first template is parsed. Nothing else about the templates is global.
    private static let escapingRegistered: Void = MustacheContentTypes.register(PortalHTMLEscaping(), named: PortalHTMLEscaping.name)

    /// A full HTML response for `template` with `values`, for the request in `context`.
    public func page(_ template: String, title: String, values: [String: Any] = [:], status: HTTPResponse.Status = .ok, context: PortalRequestContext) -> Response {
        var values = values
        values["csrf"] = context.csrfToken ?? ""
        let content = library.render(values, withTemplate: template) ?? ""
        let html = library.render(layoutValues(title: title, content: content, context: context), withTemplate: "layout") ?? ""
        return Self.htmlResponse(html, status: status)
    }

    /// What the layout shows around a page's content.
    func layoutValues(title: String, content: String, context: PortalRequestContext) -> [String: Any] {
        let path = context.requestPath
        let section = Navigation.values(Navigation.section(for: context.account), path: path)
        var values: [String: Any] = [
            "title": context.formReplay == nil ? title : "Error: " + title, "content": content, "csrf": context.csrfToken ?? "",
            "hasCSRF": context.csrfToken != nil, "nav": Navigation.values(Navigation.main(for: context.account), path: path),
            "section": section, "hasSection": !section.isEmpty,
            "flashes": context.takeFlashes().map { ["kind": $0.kind.rawValue, "message": $0.message, "isError": $0.kind == .error] as [String: Any] },
        ]
        if let account = context.account {
            values["account"] = ["name": account.name, "isStaff": account.role == .staff] as [String: Any]
            if account.role == .staff { values["staffNotices"] = staffNotices }
        }
        values["hasFormErrors"] = context.formReplay != nil
        if let replay = context.formReplay {
            values["formErrors"] = replay.errors.map { error -> [String: Any] in
                ["message": error.message, "href": "#" + FormField.id(form: replay.form, name: error.field ?? ""), "linked": error.field != nil]
            }
        }
        return values
    }

    static func htmlResponse(_ html: String, status: HTTPResponse.Status) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = "no-store"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Content-Security-Policy")!] = contentSecurityPolicy
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Every page's policy: nothing from other origins, no inline scripts.
    static let contentSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"

    /// The policy of a page that loads a payment provider's script (the card page, and only it):
    /// the page's usual policy plus `scriptOrigin` for scripts, `frameOrigins` for frames and
    /// `apiOrigin` for the script's requests (docs/billing.md, "The card page").
    static func cardPagePolicy(scriptOrigin: String, frameOrigins: String, apiOrigin: String) -> String {
        contentSecurityPolicy + "; script-src 'self' \(scriptOrigin); frame-src \(frameOrigins); connect-src 'self' \(apiOrigin)"
    }

    /// The HTML page for an error, inside the layout (with the visitor's log-in state).
    func errorPage(_ problem: Problem, context: PortalRequestContext) -> Response {
        let heading = switch problem.status.code {
        case 402: "Payment declined"
        case 403: "Not allowed"
        case 404: "Page not found"
        case 413: "Too large"
        case 429: "Too many requests"
        case 503: "Temporarily unavailable"
        case 500...: "Something went wrong"
        default: "That did not work"
        }
        var response = page(
            "error",
            title: heading,
            values: ["heading": heading, "message": problem.message, "requestID": context.requestID, "home": context.account.map(Navigation.home) ?? "/"],
            status: problem.status,
            context: context
        )
        for field in problem.headers { response.headers.append(field) }
        return response
    }
}

/// A redirect answer (303 See Other after a form post, so reload does not re-post).
func redirect(to location: String, status: HTTPResponse.Status = .seeOther) -> Response {
    Response(status: status, headers: [.location: location, .contentLength: "0"])
}

extension PageRenderer {
    /// A page rendered on its own, without the site layout (printable views).
    func standalone(_ template: String, values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        Self.htmlResponse(library.render(values, withTemplate: template) ?? "", status: status)
    }
}

extension Navigation {
    /// Where an account starts: the admin overview for staff, the client area for clients.
    static func home(_ account: Account) -> String {
        account.role == .staff ? "/admin" : "/clientarea"
    }
}
