/// Runs `body`, then `close` — after a return, a throw or a cancellation alike — and returns
/// `body`'s result or rethrows its error: an asynchronous `defer` in the caller's own task.
///
/// (`defer { Task { try? await x.close() } }` closed in an unstructured task that nobody awaited:
/// the caller could return, and the process exit, before the close ran.) A failure to close is
/// thrown only when `body` succeeded; `body`'s own error always wins. The node's database and
/// HTTP client, and tests' clients and connections, are closed with it.
public func withClosing<Result>(
    _ close: () async throws -> Void,
    _ body: () async throws -> Result
) async throws -> Result {
    let result: Swift.Result<Result, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    switch result {
    case .success(let value):
        try await close()
        return value
    case .failure(let error):
        try? await close()
        throw error
    }
}
