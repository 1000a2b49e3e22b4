import Billing
import BillingCore
import Foundation
import Hummingbird

/// The "Mail sent" link of the demo and account pages: the last email to the viewer, as the
/// mail server got it (its HTML), for trying the service without a mailbox.
struct MailPreview: Sendable {
    let services: BillingServices
    let securityHeaders: PageSecurityHeaders

    /// The link's words: the last email's subject and whether it went out yet.
    struct Link {
        var subject: String
        var url: String
        var queued: Bool
    }

    /// The link to the viewer's last email at `url`, if they have any.
    func link(userID: UUID, url: String) async throws -> Link? {
        try await services.database.read { try await services.emails.recent(userID: userID, limit: 1, on: $0) }.first.map {
            Link(subject: $0.subject, url: url, queued: $0.status != .sent)
        }
    }

    /// The last email's HTML; 404 when nothing was mailed yet.
    func response(userID: UUID) async throws -> Response {
        guard let email = try await services.database.read({ try await services.emails.recent(userID: userID, limit: 1, on: $0) }).first else {
            throw Problem.notFound("No email to this viewer yet.")
        }
        return securityHeaders.response(html: email.htmlBody, nonce: securityHeaders.nonce())
    }
}
