import Foundation

/// What `steadfast mail pipe` does with a received message, decided before anything is written
/// (docs/mail.md). Pure: the parsed message and the addresses the portal sends from go in.
///
/// Never answered (accepted and dropped, exit 0), so two robots can never mail each other in a loop:
/// - automatic mail: `Auto-Submitted` other than `no` (RFC 3834), `Precedence: bulk|junk|list`,
///   `X-Autoreply`/`X-Autorespond`, a `List-Id` (mailing lists), delivery reports
///   (`multipart/report`, an empty `Return-Path: <>`, or a sender like `mailer-daemon@`);
/// - loops: mail from the portal's own addresses (`mail.from`, a department's), mail carrying
///   the header the portal puts on its own mail (`X-Steadfast-Template`), or more than
///   ``maxReceived`` `Received` headers;
/// - no sender address.
public struct InboundPolicy: Sendable {
    public enum Verdict: Sendable, Equatable {
        case process
        /// Accept and drop, with the reason for the log.
        case ignore(String)
    }

    /// The portal's own sending addresses, lower-cased.
    public var ownAddresses: Set<String>
    public var maxReceived: Int

    public init(ownAddresses: some Sequence<String>, maxReceived: Int = 30) {
        self.ownAddresses = Set(ownAddresses.map { $0.lowercased() })
        self.maxReceived = maxReceived
    }

    public func screen(_ mail: InboundMail) -> Verdict {
        let root = mail.root
        guard let from = mail.from?.lowercased(), from.contains("@") else { return .ignore("no sender address") }
        if let auto = root.header("Auto-Submitted")?.lowercased().split(separator: ";").first?.trimmingCharacters(in: .whitespaces), auto != "no" {
            return .ignore("automatic mail (Auto-Submitted: \(auto))")
        }
        if let precedence = root.header("Precedence")?.lowercased().trimmingCharacters(in: .whitespaces), ["bulk", "junk", "list", "auto_reply"].contains(precedence) {
            return .ignore("automatic mail (Precedence: \(precedence))")
        }
        if root.header("X-Autoreply") != nil || root.header("X-Autorespond") != nil || root.header("X-Auto-Response-Suppress")?.lowercased().contains("all") == true {
            return .ignore("automatic mail (auto-reply header)")
        }
        if root.header("List-Id") != nil || root.header("List-Unsubscribe") != nil { return .ignore("mailing-list mail") }
        if root.contentType == "multipart/report" || root.header("Return-Path")?.trimmingCharacters(in: .whitespaces) == "<>" {
            return .ignore("a delivery report")
        }
        let local = from.split(separator: "@").first.map(String.init) ?? ""
        if ["mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply"].contains(local) { return .ignore("mail from \(local)@") }
        if ownAddresses.contains(from) { return .ignore("a mail loop (sent from the portal's own address)") }
        if root.header("X-Steadfast-Template") != nil { return .ignore("a mail loop (the portal's own mail came back)") }
        if root.headers(named: "Received").count > maxReceived { return .ignore("a mail loop (more than \(maxReceived) Received headers)") }
        return .process
    }
}

/// The exit status of `steadfast mail pipe`, which tells the MTA what to do (sysexits.h).
public enum MailPipeExit: Int32, Sendable {
    /// Handled: added to a ticket, opened one, or deliberately dropped (auto-reply, loop,
    /// unknown sender). The MTA delivers nothing further and sends no bounce.
    case ok = 0
    /// The message cannot be read or is too large: the MTA bounces it to the sender.
    case dataError = 65
    /// No department has the address it was sent to (and it names no ticket): the MTA bounces
    /// it as "no such user".
    case noUser = 67
    /// The database or file storage is unavailable: the MTA keeps the message and tries again later.
    case tempFail = 75
}
