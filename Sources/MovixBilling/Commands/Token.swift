import ArgumentParser
import Foundation
import Server

/// `movix-billing token`: a development bearer token, signed as the Movix auth service would.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mint a development JWT (HS256 with MOVIX_JWT_SECRET).")

    @Option(help: "The user's UUID (the token's sub).")
    var user: String

    @Option(help: "The user's email.")
    var email: String?

    @Option(help: "Lifetime in seconds.")
    var expiresIn: Int = 24 * 60 * 60

    func validate() throws {
        guard UUID(uuidString: user) != nil else { throw ValidationError("--user must be a UUID, got \"\(user)\"") }
    }

    func run() async throws {
        let secret = Settings().optional("MOVIX_JWT_SECRET") ?? DevelopmentDefaults.jwtSecret
        guard secret.utf8.count >= 32 else { exitWithConfigurationError(SettingError(name: "MOVIX_JWT_SECRET", problem: "must be at least 32 bytes long")) }
        say(try await DevelopmentTokens.mint(user: UUID(uuidString: user)!, email: email, secret: secret, lifetime: TimeInterval(expiresIn)))
    }
}
