/// Thrown by HTML pages that need a log-in; ``ErrorMiddleware`` answers it with a 303 to `/login`.
struct RedirectToLogin: Error {}
