import Crypto
import Foundation
import Hummingbird
import JWTKit

/// The claims Movix auth-service tokens carry.
struct MovixClaims: JWTPayload {
    var sub: SubjectClaim
    var email: String?
    var exp: ExpirationClaim
    var aud: AudienceClaim?
    var iss: IssuerClaim?
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        // A minute of leeway both ways: the auth service's clock and ours are not the same clock.
        try exp.verifyNotExpired(currentDate: Date().addingTimeInterval(-60))
        try nbf?.verifyNotBefore(currentDate: Date().addingTimeInterval(60))
        // A token issued in the future was not issued by a clock we can trust.
        if let iat, iat.value > Date().addingTimeInterval(60) {
            throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future")
        }
    }
}

/// Tokens for development and tests, signed as the Movix auth service signs them (HS256).
public enum DevelopmentTokens {
    /// The audience billing expects unless `MOVIX_JWT_AUDIENCE` says otherwise.
    public static let defaultAudience = "movix-billing"

    public static func mint(user: UUID, email: String?, secret: String, lifetime: TimeInterval) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        // Whole seconds: some JWT libraries reject a fractional `exp`.
        let expiry = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + lifetime).rounded(.down))
        let claims = MovixClaims(sub: .init(value: user.uuidString.lowercased()), email: email, exp: .init(value: expiry), aud: .init(value: [defaultAudience]), iss: nil, nbf: nil, iat: .init(value: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))))
        return try await keys.sign(claims)
    }
}

/// What a user token must be beyond a valid signature: signed with the configured algorithm (a
/// header naming another is refused, not quietly verified with our key), for this audience, from
/// the configured issuer, about a real user.
struct ExpectedClaims: Sendable {
    var algorithm: String
    var audience: String
    var issuer: String?

    /// Whether the token's header names the configured algorithm.
    func acceptHeader(of token: String) -> Bool {
        guard let header = token.split(separator: ".", maxSplits: 1).first,
              let data = Data(base64URL: String(header)),
              let fields = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return false }
        return fields["alg"] as? String == algorithm
    }

    func accept(_ claims: MovixClaims) -> Bool {
        guard let audience = claims.aud, audience.value.contains(self.audience) else { return false }
        guard let issuer else { return true }
        return claims.iss?.value == issuer
    }
}

/// Verifies the viewer's bearer token and puts the viewer on the context; 401 otherwise.
struct UserAuthenticationMiddleware: RouterMiddleware {
    let keys: JWTKeyCollection
    let expected: ExpectedClaims

    func handle(_ request: Request, context: BillingRequestContext, next: (Request, BillingRequestContext) async throws -> Response) async throws -> Response {
        guard let token = request.headers.bearerToken, expected.acceptHeader(of: token),
              let claims = try? await keys.verify(token, as: MovixClaims.self), expected.accept(claims),
              // Exactly 36 characters: Foundation reads a UUID up to a NUL and ignores what follows.
              claims.sub.value.utf8.count == 36,
              let userID = UUID(uuidString: claims.sub.value), userID != UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        else { throw Problem.unauthorized }
        var context = context
        // The token's email is only a default for receipts: one that is not an address is dropped,
        // as the same value in a request body would be refused.
        context.user = AuthenticatedUser(id: userID, email: claims.email.flatMap { EmailAddress.isPlausible($0) ? $0 : nil })
        return try await next(request, context)
    }
}

/// Lets through only other Movix services, which present the shared internal token.
struct InternalTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let expectedDigest: SHA256Digest

    init(token: String) {
        expectedDigest = SHA256.hash(data: Data(token.utf8))
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Comparing digests keeps the comparison's time independent of how much of the token matched.
        guard let token = request.headers.bearerToken, SHA256.hash(data: Data(token.utf8)) == expectedDigest else {
            throw Problem.unauthorized
        }
        return try await next(request, context)
    }
}

extension HTTPFields {
    /// The token of an `Authorization: Bearer <token>` header.
    var bearerToken: String? {
        guard let value = self[.authorization], value.lowercased().hasPrefix("bearer ") else { return nil }
        let token = value.dropFirst("bearer ".count).trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}

extension ServerConfiguration.TokenVerification {
    /// The `alg` its tokens carry.
    var algorithm: String {
        switch self {
        case .hmacSHA256: "HS256"
        case .rsaSHA256: "RS256"
        }
    }
}

extension JWTKeyCollection {
    /// A key collection that verifies tokens as configured.
    static func movix(_ verification: ServerConfiguration.TokenVerification) async throws -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        switch verification {
        case .hmacSHA256(let secret):
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .rsaSHA256(let pem):
            await keys.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256)
        }
        return keys
    }
}
