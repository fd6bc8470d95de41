extension OpenAPIDocument {
    /// A client's users and company details (docs/accounts.md, "Client users").
    static var clientUserOperations: [Operation] {
        let permissions = ["type": "array", "items": ["type": "string", "enum": ["billing", "support", "services", "profile"]]] as [String: Any]
        return [
            Operation(method: "get", path: "/me/users", summary: "The client's users with their permissions and status (the client account itself only; limit, offset)", access: .account, tag: "accounts"),
            Operation(method: "post", path: "/me/users", summary: "Invite a user by e-mail (owner only): 201; a single-use link to /invitations/{token} is mailed (accounts.staff_invite_ttl)", access: .account, body: object(["email": string, "name": string, "permissions": permissions], required: ["email", "name", "permissions"]), tag: "accounts"),
            Operation(method: "put", path: "/me/users/{id}", summary: "Change a user's permissions and/or disable or enable it (owner only; disabling ends its sessions at once on every node)", access: .account, body: object(["permissions": permissions, "disabled": bool]), tag: "accounts"),
            Operation(method: "delete", path: "/me/users/{id}", summary: "Remove a user (owner only): 204; its sessions end and it can no longer log in", access: .account, tag: "accounts"),
            Operation(method: "post", path: "/auth/invitations/accept", summary: "Accept an invitation: sets the user's own password (and name); 200 the account, then log in", access: .anyone, body: object(["token": string, "password": string, "name": string], required: ["token", "password"]), tag: "accounts"),
            Operation(method: "get", path: "/me/client", summary: "The client's company details (client permission profile)", access: .account, tag: "accounts"),
            Operation(method: "put", path: "/me/client", summary: "Change the client's company, phone and contact address (client permission profile)", access: .account, body: object(["company": string, "phone": string, "address": string]), tag: "accounts"),
        ]
    }
}
