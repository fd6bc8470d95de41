import ArgumentParser

/// The `steadfast` command: one binary for a portal node, the load balancer and operator tools.
@main
struct SteadfastCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "steadfast",
        abstract: "Steadfast: a highly available client-billing and support portal for hosting providers.",
        subcommands: [ServeCommand.self, BalanceCommand.self, DatabaseCommand.self, StorageCommand.self, JobsCommand.self, MailCommand.self, ChaosCommand.self, ClusterCommand.self]
    )
}
