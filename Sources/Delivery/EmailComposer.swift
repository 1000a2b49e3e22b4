import Billing
import BillingCore
import Foundation
import Mustache
import PostgresNIO
import Storage

/// Renders the email an event sends, in the viewer's language, when it is published (so what is
/// queued is what is sent, however late the mail server takes it).
public struct EmailComposer: Sendable {
    let services: BillingServices
    let templates: MustacheLibrary

    public init(services: BillingServices) async throws {
        self.services = services
        guard let directory = Bundle.module.url(forResource: "EmailTemplates", withExtension: nil) else { throw TemplatesMissing() }
        templates = try await MustacheLibrary(directory: directory.path, withExtension: "mustache")
    }

    /// The email `event` sends, or nil: not every event mails, and a viewer billing has no
    /// address for gets none.
    public func email(for event: OutboxEvent, on connection: PostgresConnection) async throws -> Email? {
        guard event.schemaVersion == EventType.schemaVersion, let userID = event.userID else { return nil }
        let data = try EventData.decode(event.data)
        let refundReason = data.refund.flatMap { RefundReason(rawValue: $0.reason) }
        guard let template = EmailTemplate.for(
            event.type, invoiceKind: data.invoice.flatMap { Invoice.Kind(rawValue: $0.kind) }, refundReason: refundReason
        ), let contact = try await services.customers.contact(userID: userID, on: connection)
        else { return nil }

        let facts = try await facts(of: data, refundReason: refundReason, on: connection)
        let content = EmailWording.content(template, facts: facts, language: contact.language)
        let model = EmailModel(content: content, lang: contact.language.rawValue)
        guard let html = templates.render(model, withTemplate: "email.html"), let text = templates.render(model, withTemplate: "email.txt") else {
            throw TemplatesMissing()
        }
        return Email(
            id: UUID(named: "email/\(event.id.lowercased)/\(template.rawValue)"), eventRowID: event.rowID, template: template, userID: userID,
            recipient: contact.email, language: contact.language, subject: content.subject, textBody: text, htmlBody: html,
            createdAt: services.clock.now()
        )
    }

    private func facts(of data: EventData, refundReason: RefundReason?, on connection: PostgresConnection) async throws -> EmailFacts {
        var facts = EmailFacts(refundReason: refundReason)
        var planID = data.invoice?.planId ?? data.subscription?.planId
        if let invoice = data.invoice {
            facts.invoiceKind = Invoice.Kind(rawValue: invoice.kind)
            facts.amount = invoice.amount.money
            facts.period = invoice.period.map { BillingPeriod(start: $0.start, end: $0.end) }
            facts.card = invoice.card.map { EmailFacts.Card(brand: $0.brand, lastFour: $0.lastFour) }
            facts.failure = invoice.failure.map { Decline(code: $0.code, message: $0.message) }
            if facts.invoiceKind == .renewal {
                facts.accessUntil = try await services.subscriptions.find(id: invoice.subscriptionId, on: connection)?.accessEnd
            }
        }
        if let subscription = data.subscription {
            facts.endedAt = subscription.accessEnd ?? subscription.currentPeriod?.end
        }
        if let cancellation = data.cancellation {
            facts.refund = cancellation.refund.money
            facts.accessUntil = cancellation.accessUntil
            facts.canceledAt = cancellation.canceledAt
        }
        if let renewal = data.renewal {
            facts.chargeAt = renewal.chargeAt
            facts.amount = renewal.amount.money
            facts.card = renewal.card.map { EmailFacts.Card(brand: $0.brand, lastFour: $0.lastFour) }
        }
        if let refund = data.refund {
            facts.amount = refund.amount.money
            let attempt = try await services.attempts.find(id: refund.paymentId, on: connection)
            facts.card = attempt?.card.map { EmailFacts.Card(brand: $0.brand, lastFour: $0.lastFour) }
            if planID == nil, let invoiceID = refund.invoiceId {
                planID = try await services.invoices.find(id: invoiceID, on: connection)?.planID
            }
        }
        facts.plan = try await planID.asyncFlatMap { try await services.plans.plan(id: $0, on: connection) }
        return facts
    }

    /// The email templates are not where the build put them.
    struct TemplatesMissing: Error, CustomStringConvertible {
        var description: String { "the email templates are missing from the Delivery bundle" }
    }
}

/// What the email templates render.
struct EmailModel {
    var lang: String
    var subject: String
    var heading: String
    var paragraphs: [String]
    var details: [EmailContent.Detail]
    var hasDetails: Bool
    var footer: String

    init(content: EmailContent, lang: String) {
        self.lang = lang
        subject = content.subject
        heading = content.heading
        paragraphs = content.paragraphs
        details = content.details
        hasDetails = !content.details.isEmpty
        footer = content.footer
    }
}
