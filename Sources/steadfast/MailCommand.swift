import ArgumentParser
import Foundation
import Logging
import SteadfastConfig
import SteadfastMail
import SteadfastServices
import SteadfastWeb

/// `steadfast mail pipe`: mail in, for an MTA's pipe transport (docs/mail.md).
struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail",
        abstract: "Receive e-mail into the support desk.",
        subcommands: [Pipe.self]
    )

    struct Pipe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read one RFC 5322 message on standard input and add it to a ticket or open one.",
            discussion: """
                [TKT-123456] in the subject adds a reply to that ticket (from its client or a staff \
                address); otherwise a new ticket opens in the department the message was sent to. \
                Automatic mail (Auto-Submitted, Precedence: bulk, delivery reports) and loops are \
                dropped and never answered. Exit status for the MTA: 0 handled or dropped; 65 \
                unreadable or too large (bounce); 67 no department has the address (bounce: no \
                such user); 75 the database, storage or configuration is unavailable (try again later).
                """
        )

        @OptionGroup var common: NodeOptions
        @Option(name: .long, help: "The envelope recipient, as the MTA knows it (Postfix: ${recipient}); checked before the headers.")
        var recipient: String?
        @Option(name: .long, help: "What to do with mail from an unknown sender: drop (default; exit 0, no backscatter) or bounce (exit 67).")
        var unknownSender: String = MailPipe.UnknownSender.drop.rawValue
        @Option(name: .long, help: "Largest message accepted, in bytes (exit 65 above it).")
        var maxSize: Int = 50 << 20

        func run() async throws {
            guard let unknown = MailPipe.UnknownSender(rawValue: unknownSender) else {
                FileHandle.standardError.write(Data("steadfast mail pipe: --unknown-sender must be drop or bounce\n".utf8))
                throw ExitCode(MailPipeExit.tempFail.rawValue)
            }
            let input = FileHandle.standardInput.readData(ofLength: max(1, maxSize) + 1)
            let configuration: NodeConfiguration
            do { configuration = try common.loadConfiguration() } catch {
                // The message stays with the MTA while the configuration is fixed.
                throw ExitCode(MailPipeExit.tempFail.rawValue)
            }
            let logger = Logger(label: "steadfast.mail.pipe")
            let outcome: MailPipe.Outcome
            do {
                outcome = try await StorageCommand.withRegistry(configuration, logger: logger) { registry, _, database in
                    let tickets = PortalNode.ticketService(configuration: configuration, database: database, registry: registry, logger: logger)
                    let pipe = MailPipe(
                        tickets: tickets, database: database, sendingAddress: configuration.mail.fromAddress, unknownSender: unknown,
                        maxSize: maxSize, logger: logger
                    )
                    return await pipe.handle(Array(input), envelopeRecipient: recipient)
                }
            } catch {
                FileHandle.standardError.write(Data("steadfast mail pipe: temporary failure: \(error)\n".utf8))
                throw ExitCode(MailPipeExit.tempFail.rawValue)
            }
            logger.notice("mail pipe", metadata: ["outcome": "\(outcome.summary)", "exit": "\(outcome.exit.rawValue)"])
            FileHandle.standardError.write(Data("steadfast mail pipe: \(outcome.summary)\n".utf8))
            if outcome.exit != .ok { throw ExitCode(outcome.exit.rawValue) }
        }
    }
}
