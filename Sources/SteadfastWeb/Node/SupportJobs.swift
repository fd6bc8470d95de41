import Foundation
import SteadfastJobs
import SteadfastServices

/// The support desk's scheduled jobs (docs/jobs.md, docs/support.md). Both are idempotent by
/// their conditions (a ticket is closed only while still answered since before the cutoff,
/// an upload deleted only while still unreferenced), so a slot run again after a takeover
/// changes nothing twice.
enum SupportJobs {
    static let autoCloseName = "support-auto-close"
    static let uploadsExpiryName = "support-uploads-expiry"

    /// `support-auto-close`, every 5 minutes: closes tickets answered for at least
    /// `support.auto_close_after` as of the slot (nothing when it is 0), queueing each
    /// `ticket_closed` mail with the change.
    static func autoClose(tickets: TicketService) -> JobDefinition {
        JobDefinition(autoCloseName, schedule: .every(.seconds(300)), timeout: .seconds(600), catchUp: .runOnce) { context in
            let closed = try await tickets.autoCloseAnswered(now: context.slot)
            if closed > 0 { context.logger.info("auto-closed answered tickets", metadata: ["steadfast.support.closed": "\(closed)"]) }
        }
    }

    /// `support-uploads-expiry`, hourly: deletes uploads no message referenced within
    /// `support.upload_lifetime` (row and stored bytes together).
    static func expireUploads(tickets: TicketService) -> JobDefinition {
        JobDefinition(uploadsExpiryName, schedule: .every(.seconds(3600)), timeout: .seconds(1800), catchUp: .runOnce) { context in
            let removed = try await tickets.expireUploads(now: context.slot)
            if removed > 0 { context.logger.info("deleted expired ticket uploads", metadata: ["steadfast.support.expired": "\(removed)"]) }
        }
    }
}
