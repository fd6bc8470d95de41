import ArgumentParser

/// `steadfast balance`: runs the Steadfast load balancer.
struct BalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "Run the load balancer.")
    func run() async throws {}
}
