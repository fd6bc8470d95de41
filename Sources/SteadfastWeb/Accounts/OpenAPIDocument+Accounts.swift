extension OpenAPIDocument {
    /// The account self-service and two-factor routes (docs/accounts.md).
    static var accountOperations: [Operation] { [
        Operation(method: "put", path: "/me", summary: "Change name and profile; a new e-mail takes effect once the link mailed to it is followed", access: .account, body: object(["name": string, "email": string, "company": string, "phone": string, "address": string], required: ["name"]), tag: "accounts"),
        Operation(method: "post", path: "/me/password", summary: "Change the password (ends every other session of the account)", access: .account, body: object(["current_password": string, "new_password": string], required: ["current_password", "new_password"]), tag: "accounts"),
        Operation(method: "get", path: "/me/sessions", summary: "The account's live sessions", access: .account, tag: "accounts"),
        Operation(method: "delete", path: "/me/sessions/{id}", summary: "End one of the account's sessions (another account's id is 404)", access: .account, tag: "accounts"),
        Operation(method: "post", path: "/me/verify-email/resend", summary: "Mail a new link confirming the account's e-mail address", access: .account, tag: "accounts"),
        Operation(method: "post", path: "/me/2fa/totp", summary: "Start TOTP enrolment: 201 {secret, otpauth_uri}", access: .account, tag: "accounts"),
        Operation(method: "post", path: "/me/2fa/totp/confirm", summary: "Confirm enrolment with a code: {recovery_codes: [10]} (shown once)", access: .account, body: object(["code": string], required: ["code"]), tag: "accounts"),
        Operation(method: "delete", path: "/me/2fa/totp", summary: "Turn two-factor log-in off (needs a TOTP or recovery code)", access: .account, body: object(["code": string], required: ["code"]), tag: "accounts"),
        Operation(method: "post", path: "/auth/login/second-factor", summary: "Complete a log-in that answered second_factor_required, with a TOTP or recovery code", access: .anyone, body: object(["code": string], required: ["code"]), tag: "accounts"),
        Operation(method: "post", path: "/auth/password-reset", summary: "Mail a password-reset link: 202 whatever the address", access: .anyone, body: object(["email": string], required: ["email"]), tag: "accounts"),
        Operation(method: "post", path: "/auth/password-reset/confirm", summary: "Set a new password with a reset link's token (ends every session)", access: .anyone, body: object(["token": string, "password": string], required: ["token", "password"]), tag: "accounts"),
        Operation(method: "post", path: "/auth/verify-email", summary: "Confirm an e-mail address with the token from its link", access: .anyone, body: object(["token": string], required: ["token"]), tag: "accounts"),
    ] }
}
