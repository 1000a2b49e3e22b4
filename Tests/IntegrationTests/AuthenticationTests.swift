import CryptoExtras
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import Prometheus
import Server
import Testing

@Suite("Viewer tokens")
struct AuthenticationTests {
    @Test("RS256 tokens from the auth service verify with MOVIX_JWT_PUBLIC_KEY; other keys, other audiences or issuers and expired tokens do not")
    func rs256() async throws {
        let authService = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let impostor = try JWTKit.Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let valid = try await Self.token(signedBy: authService, expiresIn: 300)
        let forged = try await Self.token(signedBy: impostor, expiresIn: 300)
        let expired = try await Self.token(signedBy: authService, expiresIn: -300)
        let otherAudience = try await Self.token(signedBy: authService, expiresIn: 300, audience: "movix-movies")
        let noAudience = try await Self.token(signedBy: authService, expiresIn: 300, audience: nil)
        let otherIssuer = try await Self.token(signedBy: authService, expiresIn: 300, issuer: "https://impostor.example")
        let hmac = try await TestServer.token(for: UUID())
        try await withTestDatabase { database in
            var configuration = TestServer.configuration()
            configuration.tokenVerification = .rsaSHA256(publicKeyPEM: authService.publicKey.pemRepresentation)
            configuration.jwtIssuer = "https://auth.movix.example"
            let app = try await buildApplication(
                configuration: configuration, database: database, httpClient: .shared,
                metricsRegistry: PrometheusCollectorRegistry(), logger: testLogger
            )
            try await app.test(.router) { client in
                let cases: [(String, HTTPResponse.Status)] = [
                    (valid, .ok), (forged, .unauthorized), (expired, .unauthorized), (hmac, .unauthorized),
                    (otherAudience, .unauthorized), (noAudience, .unauthorized), (otherIssuer, .unauthorized),
                ]
                for (token, status) in cases {
                    let response = try await client.execute(uri: "/v1/subscription", method: .get, headers: [.authorization: "Bearer \(token)"])
                    #expect(response.status == status)
                }
            }
        }
    }
}

extension AuthenticationTests {
    static func token(signedBy key: JWTKit.Insecure.RSA.PrivateKey, expiresIn seconds: TimeInterval, audience: String? = DevelopmentTokens.defaultAudience, issuer: String = "https://auth.movix.example") async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(rsa: key, digestAlgorithm: .sha256)
        return try await keys.sign(TestClaims(
            sub: .init(value: UUID().uuidString.lowercased()), exp: .init(value: Date().addingTimeInterval(seconds)),
            aud: audience.map { .init(value: [$0]) }, iss: .init(value: issuer)
        ))
    }
}

/// The claims the auth service signs.
private struct TestClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var aud: AudienceClaim?
    var iss: IssuerClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}
