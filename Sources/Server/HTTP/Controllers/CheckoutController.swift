import Acquiring
import Billing
import BillingCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Storage

/// `POST /v1/checkout`: start paying for a plan, idempotently.
struct CheckoutController {
    let services: BillingServices
    let links: PaymentLinks

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.post(use: create)
    }

    /// The checkout request body.
    struct CheckoutRequestBody: Decodable {
        var planId: String
        var email: String?
        /// `ru` or `en`, for the viewer's email; the Accept-Language header when absent.
        var language: String?
    }

    @Sendable func create(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let body = try await jsonBody(of: request, context: context)
        let input = try decodeBody(CheckoutRequestBody.self, from: body)
        if let email = input.email, !EmailAddress.isPlausible(email) {
            throw Problem.invalid("email \(Problem.quoted(email)) is not an email address.")
        }
        var language = request.headers[.acceptLanguage].flatMap(Language.init(acceptLanguage:))
        if let requested = input.language {
            guard let known = Language(rawValue: requested) else { throw Problem.invalid("language \(Problem.quoted(requested)) is not one of ru, en.") }
            language = known
        }
        let key = try IdempotencyKey.of(request)
        let requestHash = SHA256.hash(data: Data(buffer: body)).map { String(format: "%02x", $0) }.joined()

        let stored = try await services.database.journaledTransaction { connection, journal -> StoredResponse in
            if let key {
                try await services.idempotency.lockKey(userID: user.id, key: key, on: connection)
                if let previous = try await services.idempotency.find(userID: user.id, key: key, on: connection) {
                    guard previous.requestHash == requestHash else {
                        throw Problem(.unprocessableContent, type: "idempotency-key-reused", title: "Idempotency key reused", detail: "Idempotency-Key \(key) was used with a different request body.")
                    }
                    return previous
                }
            }
            let outcome = try await CheckoutService(services: services).checkout(userID: user.id, planIDOrCode: input.planId, email: input.email ?? user.email, language: language, on: connection, journal: &journal)
            let response = StoredResponse(
                requestHash: requestHash,
                status: outcome.created ? 201 : 200,
                body: String(decoding: try APICoding.encoder.encode(try CheckoutResponseBody(outcome.invoice, plan: outcome.plan, services: services, links: links)), as: UTF8.self)
            )
            if let key { try await services.idempotency.save(userID: user.id, key: key, response: response, on: connection) }
            return response
        }
        return Response(
            status: .init(code: stored.status),
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: stored.body))
        )
    }
}

/// The rules for an `Idempotency-Key` header value.
enum IdempotencyKey {
    /// The request's `Idempotency-Key`, validated; nil when it has none.
    static func of(_ request: Request) throws -> String? {
        try request.headers[HTTPField.Name("Idempotency-Key")!].map(validated)
    }

    static func validated(_ value: String) throws -> String {
        guard (1...255).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters.")
        }
        return value
    }
}

/// Just enough email checking to catch a mistyped field, not to police addresses.
enum EmailAddress {
    static func isPlausible(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return text.utf8.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".")
            && !text.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.properties.generalCategory == .control } })
    }
}
