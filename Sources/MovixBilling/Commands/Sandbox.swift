import ArgumentParser
import Hummingbird
import SandboxAcquirer

/// `movix-billing sandbox`: the CloudPayments-compatible sandbox acquirer on its own.
struct Sandbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the sandbox acquirer (CloudPayments protocol, test cards, 3-D Secure, card form).")

    func run() async throws {
        let settings = Settings()
        let (logger, _) = Runtime.bootstrap(settings: settings)
        let configuration: SandboxConfiguration
        do { configuration = try settings.sandboxConfiguration() } catch { exitWithConfigurationError(error) }
        try await buildSandboxApplication(configuration: configuration, logger: logger).runService()
    }
}
