import Foundation
import Hummingbird
import NIOCore

/// Per-request state: who is calling, and the API's JSON conventions.
public struct BillingRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The viewer, once a bearer token has been verified.
    public var user: AuthenticatedUser?
    /// The peer of the connection (not a proxy's forwarded header).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Request bodies are capped; nothing the API accepts comes near this.
    public var maxUploadSize: Int { 64 * 1024 }

    public var requestDecoder: JSONDecoder { APICoding.decoder }
    public var responseEncoder: JSONEncoder { APICoding.encoder }

    /// The verified viewer, or 401 for routes that need one.
    func requireUser() throws -> AuthenticatedUser {
        guard let user else { throw Problem.unauthorized }
        return user
    }
}

/// A viewer as the Movix auth service vouches for them.
public struct AuthenticatedUser: Sendable, Hashable {
    public var id: UUID
    public var email: String?
}

/// JSON conventions of the public API: snake_case keys, ISO 8601 UTC times.
enum APICoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
