extension OpenAPIDocument {
    /// A client's files.
    static var fileOperations: [Operation] { [
        Operation(method: "post", path: "/files", summary: "Upload a file: the raw bytes as the body, with Content-Length, Content-Type and X-Upload-Filename (percent-encoded); at most storage.max_upload_size", access: .account, tag: "files"),
        Operation(method: "get", path: "/files", summary: "The client's files, newest first (limit ≤ 200, default 50; offset)", access: .account, tag: "files"),
        Operation(method: "get", path: "/files/{id}", summary: "One file's metadata (size, SHA-256, locations)", access: .account, tag: "files"),
        Operation(method: "get", path: "/files/{id}/content", summary: "The file's bytes (Range: bytes=a-b gives 206)", access: .account, tag: "files"),
        Operation(method: "get", path: "/files/{id}/link", summary: "A download link valid for 5 minutes", access: .account, tag: "files"),
        Operation(method: "delete", path: "/files/{id}", summary: "Delete the file and every stored copy", access: .account, tag: "files"),
    ] }
}
