/// The one error type of `SteadfastStorage`: what went wrong, for which target and key, in a
/// sentence a person can act on.
///
/// `description` never contains credentials, signatures or presigned URLs; it may name the
/// target, the bucket, the directory and the key, which are not secret.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for code that needs to react (retry, 404, ...).
    public enum Kind: Sendable, Hashable {
        /// The key breaks the key rules (see ``StorageKey``).
        case invalidKey
        /// No object under that key.
        case notFound
        /// The body had more or fewer bytes than the size declared for it.
        case sizeMismatch
        /// Bytes read back or copied do not hash to the expected SHA-256.
        case checksumMismatch
        /// The byte range starts beyond the end of the object.
        case invalidRange
        /// A target or storage setting is missing or impossible.
        case invalidConfiguration
        /// The local storage directory does not exist or is not a directory.
        case directoryMissing
        /// The local storage directory (or its filesystem) is not writable.
        case readOnly
        /// The operating system refused access to a path.
        case permissionDenied
        /// A key collides with an existing file or directory (`a` is a file, `a/b` is asked).
        case keyConflict
        /// The S3 bucket does not exist.
        case noSuchBucket
        /// The credentials are valid but not allowed to do this.
        case accessDenied
        /// The server computed another signature: usually a wrong secret access key.
        case signatureMismatch
        /// The server does not know the access key id (or the session token expired).
        case invalidCredentials
        /// No credentials configured and none in the environment.
        case missingCredentials
        /// The server stayed unreachable, timed out or kept answering 5xx/429 after retries.
        case unavailable
        /// Any other error answered by the S3 server (its code is in the message).
        case serverError
        /// A local filesystem call failed for another reason (errno in the message).
        case io
        /// A download link is expired or its signature is wrong.
        case invalidLink
        /// The operation is not available on this target (e.g. links without a secret).
        case unsupported
        /// A file type is routed to a target name that is not configured.
        case unknownTarget
        /// A migration did not verify every file, so the type was not switched.
        case migrationIncomplete
    }

    /// What went wrong.
    public let kind: Kind
    /// The human-readable explanation (safe to log).
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
