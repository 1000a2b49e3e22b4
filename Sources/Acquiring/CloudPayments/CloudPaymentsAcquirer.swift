import AsyncHTTPClient
import BillingCore
import Foundation

/// CloudPayments (and the sandbox acquirer, which speaks the same protocol).
public struct CloudPaymentsAcquirer: Acquirer {
    public static let acquirerName = "cloudpayments"

    public var name: String { Self.acquirerName }

    private let configuration: CloudPaymentsConfiguration
    private let client: CloudPaymentsClient
    private let signature: CloudPaymentsSignature

    public init(configuration: CloudPaymentsConfiguration, httpClient: HTTPClient, log: any AcquiringLog) {
        self.configuration = configuration
        self.client = CloudPaymentsClient(configuration: configuration, httpClient: httpClient, log: log)
        self.signature = CloudPaymentsSignature(apiSecret: configuration.apiSecret)
    }

    public func accountID(for userID: UUID) -> String {
        AcquirerAccount.id(for: userID)
    }

    public func browserCheckout(for request: CheckoutRequest) -> BrowserCheckout {
        var options: [String: WidgetValue] = [
            "publicId": .string(configuration.publicID),
            "amount": .decimal(request.amount.decimalString),
            "currency": .string(request.amount.currency.rawValue),
            "invoiceId": .string(request.invoiceID.lowercased),
            "accountId": .string(accountID(for: request.userID)),
            "description": .string(request.description),
            // Renewals charge the saved card, so the card is kept; the token comes with Pay.
            "saveCard": .bool(true),
        ]
        if let email = request.email { options["email"] = .string(email) }
        return BrowserCheckout(scriptURL: configuration.widgetScriptURL, options: options)
    }

    public func parseNotification(_ notification: IncomingNotification) async throws(NotificationError) -> PaymentNotification {
        // The signature is checked on the raw bytes before a single field is read.
        guard signature.isValid(headers: notification.headers, body: notification.body) else { throw .badSignature }
        guard let kind = NotificationKind(rawValue: notification.kind) else { throw .malformed("unknown notification type \(notification.kind)") }
        return try CloudPaymentsNotificationParser().parse(kind: kind, body: notification.body, contentType: notification.contentType)
    }

    public func reply(to kind: NotificationKind, decision: CheckDecision) -> NotificationReply {
        NotificationReply(contentType: "application/json", body: "{\"code\":\(decision.rawValue)}")
    }

    public func chargeSavedCard(_ request: SavedCardCharge) async throws -> ChargeOutcome {
        var fields: [(String, CloudPaymentsField)] = [
            ("Amount", .decimal(request.amount.decimalString)),
            ("Currency", .text(request.amount.currency.rawValue)),
            ("AccountId", .text(accountID(for: request.userID))),
            ("Token", .text(request.token)),
            ("TrInitiatorCode", .integer(request.initiatedByCardholder ? 1 : 0)),
            ("PaymentScheduled", .integer(request.initiatedByCardholder ? 0 : 1)),
            ("InvoiceId", .text(request.invoiceID.lowercased)),
            ("Description", .text(request.description)),
        ]
        if let email = request.email { fields.append(("Email", .text(email))) }
        let envelope = try await client.call("/payments/tokens/charge", fields: fields, requestID: request.idempotencyKey, invoiceID: request.invoiceID.lowercased)
        guard let model = envelope.transaction else {
            throw AcquirerRequestRejected(operation: "tokens/charge", message: envelope.Message ?? "no transaction in the answer")
        }
        if let acsURL = model.AcsUrl, let id = model.TransactionId {
            return .requiresAuthentication(transactionID: String(id), url: acsURL)
        }
        return envelope.Success ? .succeeded(model.payment) : .declined(model.payment)
    }

    public func refund(transactionID: String, amount: Money, idempotencyKey: String) async throws -> RefundOutcome {
        let envelope = try await client.call(
            "/payments/refund", fields: [("TransactionId", .integerText(transactionID)), ("Amount", .decimal(amount.decimalString))],
            requestID: idempotencyKey, invoiceID: nil
        )
        guard envelope.Success, let refundID = envelope.Model?.TransactionId else {
            return .rejected(message: envelope.Message ?? "refund rejected")
        }
        return .succeeded(refundTransactionID: String(refundID))
    }

    public func findPayment(invoiceID: UUID) async throws -> AcquirerPayment? {
        let envelope = try await client.call(
            "/v2/payments/find", fields: [("InvoiceId", .text(invoiceID.lowercased))], requestID: nil, invoiceID: invoiceID.lowercased
        )
        return envelope.transaction?.payment
    }

    public func findPayment(transactionID: String) async throws -> AcquirerPayment? {
        let envelope = try await client.call(
            "/payments/get", fields: [("TransactionId", .integerText(transactionID))], requestID: nil, invoiceID: nil
        )
        return envelope.transaction?.payment
    }
}
