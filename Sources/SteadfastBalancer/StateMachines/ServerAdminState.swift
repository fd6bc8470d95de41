/// The operator's wish for a server, set through the admin API.
public enum ServerAdminState: String, Sendable, Equatable, Codable, CaseIterable {
    /// Takes traffic when healthy.
    case ready
    /// Takes no new requests except sticky ones; in-flight requests finish.
    case drain
    /// Takes no requests at all (maintenance); it may be stopped once its in-flight requests are done.
    case maint
}
