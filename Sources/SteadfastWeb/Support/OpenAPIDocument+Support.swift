import SteadfastPersistence

extension OpenAPIDocument {
    /// The support desk: tickets, attachments, departments, canned replies.
    static var supportOperations: [Operation] { [
        Operation(method: "get", path: "/support/departments", summary: "Departments a ticket may be opened in (clients: the public ones)", access: .account, tag: "support"),
        Operation(method: "post", path: "/tickets/attachments", summary: "Upload an attachment first: the raw bytes as the body, Content-Length and X-Upload-Filename (percent-encoded); 201 {id, filename, size, sha256, content_type}; 413 above support.attachment_max_size, 415 for a type not allowed or content not matching its extension, 503 when storage is down (nothing stored); unused uploads expire after support.upload_lifetime", access: .account, tag: "support"),
        Operation(method: "post", path: "/tickets", summary: "Open a ticket (201 {id, number, status})", access: .account, body: object(["department_id": uuid, "subject": string, "message": string, "priority": ["type": "string", "enum": ["low", "medium", "high", "urgent"]], "service_id": uuid, "attachments": ["type": "array", "items": uuid, "description": "ids of the caller's unused uploads (POST /tickets/attachments)"]], required: ["department_id", "subject", "message"]), tag: "support"),
        Operation(method: "get", path: "/tickets", summary: "The client's tickets, oldest waiting first (limit ≤ 200, default 50; offset)", access: .account, tag: "support"),
        Operation(method: "get", path: "/tickets/{id}", summary: "A ticket with messages[], each with attachments[] of {id, filename, size, sha256}; internal notes never reach clients", access: .account, tag: "support"),
        Operation(method: "post", path: "/tickets/{id}/replies", summary: "Reply (the status becomes customer_reply; a closed ticket reopens)", access: .account, body: object(["message": string, "attachments": ["type": "array", "items": uuid, "description": "ids of the caller's unused uploads (POST /tickets/attachments)"]], required: ["message"]), tag: "support"),
        Operation(method: "post", path: "/tickets/{id}/close", summary: "Close the ticket (409 if closed)", access: .account, tag: "support"),
        Operation(method: "get", path: "/tickets/{id}/attachments/{attachment_id}/content", summary: "An attachment's bytes (Content-Disposition: attachment; Range: bytes=a-b gives 206); ?redirect=1 answers 303 to a 5-minute link (presigned on S3)", access: .account, tag: "support"),
        Operation(method: "post", path: "/admin/support/departments", summary: "Create a department (201 {id, name, email, public}); 409 if another has the address", access: .staff, body: object(["name": string, "email": string, "public": bool], required: ["name", "email"]), tag: "support"),
        Operation(method: "get", path: "/admin/support/departments", summary: "Every department", access: .staff, tag: "support"),
        Operation(method: "get", path: "/admin/support/canned-replies", summary: "Canned replies", access: .staff, tag: "support"),
        Operation(method: "post", path: "/admin/support/canned-replies", summary: "Add a canned reply", access: .staff, body: object(["title": string, "body": string], required: ["title", "body"]), tag: "support"),
        Operation(method: "delete", path: "/admin/support/canned-replies/{id}", summary: "Delete a canned reply", access: .staff, tag: "support"),
        Operation(method: "get", path: "/admin/tickets", summary: "The ticket queue, oldest waiting first (department_id, status — one or several, comma-separated —, assignee_id; sort, dir; limit, offset)", access: .staff, sort: TicketRepository.sortColumns, tag: "support"),
        Operation(method: "get", path: "/admin/tickets/{id}", summary: "A ticket with every message, internal notes included", access: .staff, tag: "support"),
        Operation(method: "post", path: "/admin/tickets/{id}/replies", summary: "A staff reply (status answered, mails the client) or, with internal: true, a staff-only note", access: .staff, body: object(["message": string, "internal": bool, "attachments": ["type": "array", "items": uuid, "description": "ids of the caller's unused uploads (POST /tickets/attachments)"]], required: ["message"]), tag: "support"),
        Operation(method: "put", path: "/admin/tickets/{id}", summary: "Change status, assignee (a staff member; unassign: true clears it), department or priority", access: .staff, body: object(["status": string, "assignee_id": uuid, "department_id": uuid, "priority": string, "unassign": bool]), tag: "support"),
        Operation(method: "get", path: "/admin/tickets/{id}/attachments/{attachment_id}/content", summary: "Any attachment of the ticket, notes' included", access: .staff, tag: "support"),
    ] }
}
