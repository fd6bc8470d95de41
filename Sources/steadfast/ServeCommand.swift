import ArgumentParser

/// `steadfast serve`: runs one portal node.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run a portal node.")
    func run() async throws {}
}
