import Foundation
import Hummingbird

/// What a form post that failed validation sent: its page is rendered again with these values
/// in the fields, each error beside its field and all of them summarised above the page.
struct FormReplay: Sendable {
    struct FieldError: Sendable {
        /// The field the error names (`amount`, `price_monthly`), if any.
        let field: String?
        let message: String
    }

    /// The form's `_form` field: which form of the page was posted.
    let form: String
    let values: [String: String]
    let errors: [FieldError]

    /// Fields never sent back into a page: secrets, and one-time keys a replayed form must not reuse.
    static let withheld: Set<String> = ["_csrf", "_form", "idempotency_key", "password", "current_password", "new_password", "code"]

    init(form: String, values: [String: String], errors: [FieldError]) {
        self.form = form
        self.values = values.filter { !Self.withheld.contains($0.key) }
        self.errors = errors
    }

    /// What was sent to form `form` and the one problem that refused it, on its field (`field`
    /// overrides it, for a form whose control is named other than the API's field).
    init(form: String, values: [String: String], problem: Problem, field: String? = nil) {
        self.init(form: form, values: values, errors: [.init(field: field ?? problem.field, message: problem.message)])
    }

    /// Whether `problem` is something the person filling in the form can fix (bad or
    /// conflicting input, a declined payment), rather than a missing page or an outage.
    static func isCorrectable(_ problem: Problem) -> Bool {
        [400, 402, 409, 422].contains(problem.status.code)
    }
}

extension PortalRequestContext {
    /// This context with the replay of form `form` refused by `error`, for a handler that
    /// renders its page itself (a multipart form, or one whose refusal keeps a status of its
    /// own); `field` puts the message on another control than the error names.
    func replaying(_ form: String, values: [String: String], error: any Error, field: String? = nil) -> PortalRequestContext {
        var context = self
        context.formReplay = FormReplay(form: form, values: values, problem: Problem(error), field: field)
        return context
    }
}

/// One form control as the `partials/field` template shows it: label, value, hint, and the
/// error from a failed post of the same form (with `aria-invalid` and `aria-describedby`).
enum FormField {
    enum Kind {
        case text(type: String)
        case textarea(rows: Int)
        case select([(value: String, label: String)])
        case checkbox
        /// A file picker (for several files if `multiple`); what was picked is never sent back.
        case file(multiple: Bool)
    }

    /// The element id of field `name` in form `form`.
    static func id(form: String, name: String) -> String {
        form.isEmpty ? "f-\(name)" : "\(form)-\(name)"
    }

    /// The template values of a field; `value` is what the page shows unless the same form was
    /// just posted with errors, in which case what was entered wins. `autocomplete` is the
    /// input's autofill hint (`email`, `new-password`).
    static func make(
        _ name: String, label: String, value: String = "", kind: Kind = .text(type: "text"), hint: String? = nil, required: Bool = false,
        autocomplete: String? = nil, form: String, context: PortalRequestContext
    ) -> [String: Any] {
        let replay = context.formReplay.flatMap { $0.form == form ? $0 : nil }
        let shown = replay.map { $0.values[name] ?? (kindIsCheckbox(kind) ? "" : value) } ?? value
        let error = replay?.errors.first { $0.field == name }?.message
        let id = id(form: form, name: name)
        var describedBy: [String] = []
        if hint != nil { describedBy.append(id + "-hint") }
        if error != nil { describedBy.append(id + "-error") }
        var values: [String: Any] = [
            "id": id, "name": name, "label": label, "value": shown, "required": required,
            "hint": hint ?? "", "hasHint": hint != nil, "error": error ?? "", "hasError": error != nil,
            "describedBy": describedBy.joined(separator: " "), "hasDescription": !describedBy.isEmpty,
            "isCheckbox": false, "isSelect": false, "isTextarea": false, "isInput": false, "checked": false, "rows": 4, "type": "text", "options": [Any](),
            "isFile": false, "multiple": false, "autocomplete": autocomplete ?? "", "hasAutocomplete": autocomplete != nil,
        ]
        switch kind {
        case .text(let type):
            values["isInput"] = true
            values["type"] = type
        case .textarea(let rows):
            values["isTextarea"] = true
            values["rows"] = rows
        case .select(let options):
            values["isSelect"] = true
            values["options"] = options.map { ["value": $0.value, "label": $0.label, "selected": $0.value == shown] as [String: Any] }
        case .checkbox:
            values["isCheckbox"] = true
            values["checked"] = !shown.isEmpty
        case .file(let multiple):
            values["isInput"] = true
            values["type"] = "file"
            values["isFile"] = true
            values["multiple"] = multiple
            values["value"] = ""
        }
        return values
    }

    private static func kindIsCheckbox(_ kind: Kind) -> Bool {
        if case .checkbox = kind { return true }
        return false
    }
}

extension RouterGroup where Context == PortalRequestContext {
    /// A form post whose correctable errors (``FormReplay/isCorrectable(_:)``) answer with the
    /// form's own page, rendered by `page` with what was entered and the errors, and the
    /// error's status (400, 409, ...). Other errors go to the error page as usual. One place for
    /// this, so no handler repeats it.
    @discardableResult
    func post(
        _ path: RouterPath = "", rerendering page: @escaping @Sendable (Request, Context) async throws -> Response,
        use handler: @escaping @Sendable (Request, Context) async throws -> Response
    ) -> Self {
        post(path) { request, context in
            do {
                return try await handler(request, context)
            } catch {
                let problem = Problem(error)
                guard FormReplay.isCorrectable(problem) else { throw error }
                let fields = (try? await FormFields.read(request, context: context))?.values ?? [:]
                var context = context
                context.formReplay = FormReplay(form: fields["_form"] ?? "", values: fields, problem: problem)
                var response = try await page(request, context)
                response.status = problem.status
                return response
            }
        }
    }
}

/// `partials/confirm` values: a destructive action behind a second step (a disclosure without
/// JavaScript, a modal `<dialog>` with it), drawn as a danger button.
enum ConfirmAction {
    static func values(label: String, action: String, question: String, confirmLabel: String, hidden: [(name: String, value: String)] = []) -> [String: Any] {
        ["label": label, "action": action, "question": question, "confirmLabel": confirmLabel, "hidden": hidden.map { ["name": $0.name, "value": $0.value] }]
    }
}
