import Acquiring
import BillingCore
import Logging
import Storage

/// The repositories and collaborators the billing use cases share.
struct BillingServices: Sendable {
    let database: Database
    let acquirers: AcquirerRegistry
    let acquiringLog: PostgresAcquiringLog
    let plans = PlanRepository()
    let customers = CustomerRepository()
    let paymentMethods = PaymentMethodRepository()
    let payments = PaymentRepository()
    let subscriptions = SubscriptionRepository()
    let invoices = InvoiceRepository()
    let idempotency = IdempotencyRepository()
    let logger: Logger

    /// The acquirer's card form for an invoice, described by its plan's title.
    func browserCheckout(for invoice: Invoice, description: String) throws -> (any Acquirer, BrowserCheckout) {
        let acquirer = try acquirers.acquirer(for: invoice)
        let request = CheckoutRequest(invoiceID: invoice.id, userID: invoice.userID, amount: invoice.amount, description: description, email: invoice.email)
        return (acquirer, acquirer.browserCheckout(for: request))
    }
}
