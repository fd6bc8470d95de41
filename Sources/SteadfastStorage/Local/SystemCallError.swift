#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call inside the local backend, turned into a ``StorageError`` by
/// ``LocalFileStorage`` once it knows which path and key it concerned.
struct SystemCallError: Error, Sendable {
    /// The call that failed (`open`, `rename`, ...).
    let call: String
    /// Its `errno`.
    let code: Int32

    /// The error for the current `errno`.
    static func last(_ call: String) -> SystemCallError {
        SystemCallError(call: call, code: errno)
    }

    /// The operating system's sentence for the code.
    var reason: String { String(cString: strerror(code)) }
}
