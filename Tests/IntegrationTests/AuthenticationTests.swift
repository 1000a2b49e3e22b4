import Crypto
import CryptoExtras
import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import NIOCore
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
    @Test("HS256 tokens: a header naming another algorithm, a future nbf or iat, no audience or the nil UUID as sub are refused")
    func hs256Edges() async throws {
        func token(header: String = #"{"alg":"HS256","typ":"JWT"}"#, claims: [String: Any]) throws -> String {
            func encode(_ data: Data) -> String {
                data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }
            let signed = encode(Data(header.utf8)) + "." + encode(try JSONSerialization.data(withJSONObject: claims))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: Data(TestServer.jwtSecret.utf8)))
            return signed + "." + encode(Data(mac))
        }
        let now = Int(Date().timeIntervalSince1970)
        let good: [String: Any] = ["sub": UUID().uuidString.lowercased(), "exp": now + 300, "aud": ["movix-billing"]]
        var future = good
        future["nbf"] = now + 600
        var issuedLater = good
        issuedLater["iat"] = now + 600
        var issuedNow = good
        issuedNow["iat"] = now + 30
        var subjectWithNUL = good
        subjectWithNUL["sub"] = UUID().uuidString.lowercased() + "\u{0}extra"
        var oddEmail = good
        oddEmail["email"] = "a\u{0}@b.c"
        let oddEmailToken = try token(claims: oddEmail)
        var nilSubject = good
        nilSubject["sub"] = "00000000-0000-0000-0000-000000000000"
        var noAudience = good
        noAudience["aud"] = nil
        let cases: [(String, HTTPResponse.Status)] = [
            (try token(claims: good), .ok),
            (try token(header: #"{"alg":"HS512","typ":"JWT"}"#, claims: good), .unauthorized),
            (try token(header: #"{"alg":"RS256","typ":"JWT"}"#, claims: good), .unauthorized),
            (try token(claims: future), .unauthorized),
            (try token(claims: issuedLater), .unauthorized),
            (try token(claims: issuedNow), .ok),
            (try token(claims: nilSubject), .unauthorized),
            (try token(claims: subjectWithNUL), .unauthorized),
            (try token(claims: noAudience), .unauthorized),
        ]
        try await withTestDatabase { database in
            try await TestServer.run(database: database, setup: .router) { client in
                for (index, (token, status)) in cases.enumerated() {
                    let response = try await client.execute(uri: "/v1/subscription", method: .get, headers: [.authorization: "Bearer \(token)"])
                    #expect(response.status == status, "case \(index)")
                }
                // A token's email that is not an address is no default for receipts, and no 500.
                let checkout = try await client.execute(
                    uri: "/v1/checkout", method: .post,
                    headers: [.authorization: "Bearer \(oddEmailToken)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"plan_id":"premium_1m"}"#)
                )
                #expect(checkout.status == .created)
            }
        }
    }


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
