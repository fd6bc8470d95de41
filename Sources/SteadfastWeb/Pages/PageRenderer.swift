import Foundation
import Hummingbird
import Mustache
import SteadfastDomain

/// Renders the HTML pages: a page template inside the shared layout.
public struct PageRenderer: Sendable {
    let library: MustacheLibrary
    /// Warnings every staff page shows above its content (e.g. a test gateway left enabled).
    let staffNotices: [String]

    public init(staffNotices: [String] = [], files: MustacheLibrary = MustacheLibrary()) throws {
        self.staffNotices = staffNotices
        MustacheContentTypes.register(PortalHTMLEscaping(), named: PortalHTMLEscaping.name)
        // The templates kept as files (Sources/SteadfastWeb/Templates), then the in-Swift ones.
        var library = files
        for (name, text) in Templates.all.merging(BillingTemplates.all, uniquingKeysWith: { first, _ in first }) {
            try library.register(PortalHTMLEscaping.pragma + text, named: name)
        }
        self.library = library
    }

    /// The renderer with every template: the `.mustache` files of the target's `Templates`
    /// resource directory (named by their path, `support/ticket`) and the in-Swift ones.
    public static func load(staffNotices: [String] = []) async throws -> PageRenderer {
        MustacheContentTypes.register(PortalHTMLEscaping(), named: PortalHTMLEscaping.name)
        guard let directory = Bundle.module.resourceURL?.appendingPathComponent("Templates").path else {
            throw PageTemplatesMissing()
        }
        return try PageRenderer(staffNotices: staffNotices, files: try await MustacheLibrary(directory: directory))
    }

    struct PageTemplatesMissing: Error {}

    /// A full HTML response for `template` with `values`, for the request in `context`.
    public func page(_ template: String, title: String, values: [String: Any] = [:], status: HTTPResponse.Status = .ok, context: PortalRequestContext) -> Response {
        var values = values
        values["csrf"] = context.csrfToken ?? ""
        let content = library.render(values, withTemplate: template) ?? ""
        var layoutValues: [String: Any] = ["title": title, "content": content, "csrf": context.csrfToken ?? ""]
        if let account = context.account {
            layoutValues["account"] = ["name": account.name, "isStaff": account.role == .staff] as [String: Any]
            if account.role == .staff { layoutValues["staffNotices"] = staffNotices }
        }
        let html = library.render(layoutValues, withTemplate: "layout") ?? ""
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = "no-store"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Content-Security-Policy")!] = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The HTML page for an error.
    func errorPage(_ problem: Problem, context: PortalRequestContext) -> Response {
        let heading = switch problem.status.code {
        case 403: "Not allowed"
        case 404: "Page not found"
        case 413: "Too large"
        case 503: "Temporarily unavailable"
        case 500...: "Something went wrong"
        default: "That did not work"
        }
        var response = page(
            "error",
            title: heading,
            values: ["heading": heading, "message": problem.message, "requestID": context.requestID],
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
        let html = library.render(values, withTemplate: template) ?? ""
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = "no-store"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.init("Content-Security-Policy")!] = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
