/// What an account may do: clients use the client area, staff run the business.
public enum Role: String, Sendable, Codable, CaseIterable {
    /// A customer of the hosting provider.
    case client
    /// An employee of the hosting provider, with access to `/admin`.
    case staff
}
