import SteadfastDomain

extension SupportError {
    /// The staff check of the support services (tickets, mail in, content), through the one
    /// policy (``StaffPolicy``), answered as the services' 403: `permission` defaults to the
    /// ticket desk's.
    static func requireStaff(_ actor: Account, _ permission: StaffPermission = .supportReply) throws(SupportError) {
        do { try StaffPolicy.require(permission, of: actor) } catch { throw SupportError(.forbidden, error.message) }
    }
}
