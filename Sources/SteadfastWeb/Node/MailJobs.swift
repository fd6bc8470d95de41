import Foundation
import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastJobs
import SteadfastMail
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage

/// E-mail delivery as a scheduled job (docs/mail.md): every `mail.delivery_interval` one node
/// sends what is due in the outbox. The job's own slot is not what makes sending exactly-once:
/// each message is claimed in the database (lease + claim token), so a run taken over after a
/// crash, or a manual run beside a scheduled one, never sends a message that is already sent.
///
/// Before sending, a run turns the queued password-reset requests into links
/// (`AccountService.mailQueuedPasswordResets`, docs/accounts.md): a reset request only queues
/// the address, so that it costs the same whether the address has an account or not, and its
/// mail still leaves in the same run as it would have from the outbox.
enum MailJobs {
    static let name = "mail-delivery"

    /// `attachments` makes the invoice PDFs invoice mails carry (the node's renderer); `accounts`
    /// makes the queued password-reset links.
    static func definition(
        configuration: NodeConfiguration, database: any SQLDatabase, clock: any WallClock, accounts: AccountService,
        attachments: any MailAttachmentSource = NoMailAttachmentSource()
    ) throws -> JobDefinition {
        let transport = try MailWiring.transport(configuration.mail, nodeID: configuration.nodeID)
        let settings = MailWiring.deliverySettings(configuration.mail)
        let node = configuration.nodeID
        // A run may take as long as a full batch of slow sends; it stops early when cancelled.
        return JobDefinition(name, schedule: .every(configuration.mail.deliveryInterval), timeout: .seconds(3600), catchUp: .runOnce) { context in
            let delivery = MailDelivery(
                database: database, transport: transport, settings: settings, node: node, clock: clock, logger: context.logger, attachments: attachments
            )
            // A failure here (the database) leaves the requests queued and must not hold up the
            // mail that is already due.
            do {
                let links = try await accounts.mailQueuedPasswordResets()
                if links > 0 { context.logger.info("password-reset links made", metadata: ["steadfast.mail.reset_links": "\(links)"]) }
            } catch {
                context.logger.error("queued password resets not handled", metadata: ["error": "\(error)"])
            }
            let report = try await delivery.deliverDue()
            if report.sent + report.retried + report.failed + report.lost > 0 {
                context.logger.info("mail delivery", metadata: [
                    "steadfast.mail.sent": "\(report.sent)", "steadfast.mail.retried": "\(report.retried)",
                    "steadfast.mail.failed": "\(report.failed)", "steadfast.mail.lost": "\(report.lost)",
                ])
            }
        }
    }
}

/// Builds the mail objects from `mail.*` (shared by the node and `steadfast mail`).
public enum MailWiring {
    /// The transport `mail.transport` names. A bad `mail.smtp_url` is a configuration error that
    /// names the key and never repeats the URL (it may hold a password).
    public static func transport(_ mail: NodeConfiguration.Mail, nodeID: String) throws -> any MailTransport {
        switch mail.transport {
        case .log:
            return LogMailTransport(logger: Logger(label: "steadfast.mail"))
        case .smtp:
            let url: SMTPURL
            do { url = try SMTPURL(parsing: mail.smtpURL ?? "") } catch {
                throw ConfigError(key: ConfigKey.mailSMTPURL.name, message: error.message)
            }
            return SMTPMailTransport(url: url, heloName: heloName(nodeID: nodeID), timeout: mail.sendTimeout)
        }
    }

    public static func deliverySettings(_ mail: NodeConfiguration.Mail) -> MailDeliverySettings {
        MailDeliverySettings(
            from: Mailbox(address: mail.fromAddress, name: mail.fromName), claimLease: mail.claimLease,
            retry: MailRetryPolicy(base: mail.retryBase, cap: .seconds(3600), maxAttempts: mail.maxAttempts)
        )
    }

    /// The EHLO name: the host's name when it is a usable domain name, else a literal-free fallback.
    static func heloName(nodeID: String) -> String {
        let host = ProcessInfo.processInfo.hostName
        let usable = !host.isEmpty && host.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
        return usable ? host : "steadfast.invalid"
    }
}

extension PortalNode {
    /// The ticket service exactly as a node builds it (for `steadfast mail pipe`).
    public static func ticketService(configuration: NodeConfiguration, database: any SQLDatabase, registry: StorageRegistry, logger: Logger) -> TicketService {
        let files = FileService(database: database, registry: registry, clock: SystemWallClock(), ownerQuota: configuration.storageClientQuota, logger: logger)
        return SupportWeb.tickets(configuration: configuration, database: database, files: files, clock: SystemWallClock(), logger: logger)
    }
}
