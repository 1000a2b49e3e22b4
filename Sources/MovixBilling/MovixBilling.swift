import ArgumentParser

/// `movix-billing`: the Movix subscription billing service and its tools.
@main
struct MovixBilling: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "movix-billing",
        abstract: "Movix Billing: subscriptions and payments for the Movix online cinema.",
        subcommands: [Dev.self, Serve.self, Worker.self, Migrate.self, Reconcile.self, Audit.self, Sandbox.self, Token.self]
    )
}
