import Acquiring
import BillingCore
import Logging
import Storage

/// The repositories and collaborators the billing use cases share.
public struct BillingServices: Sendable {
    public let database: Database
    public let acquirers: AcquirerRegistry
    public let acquiringLog: PostgresAcquiringLog
    public let clock: BillingClock
    /// What a viewer who cancels gets back (`MOVIX_REFUND_POLICY`).
    public let refundPolicy: RefundPolicy
    /// When renewals are charged and how declines are chased (`MOVIX_RENEWAL_LEAD`, `MOVIX_GRACE_PERIOD`).
    public let renewalTerms: RenewalTerms
    public let plans = PlanRepository()
    public let customers = CustomerRepository()
    public let paymentMethods = PaymentMethodRepository()
    public let payments = PaymentRepository()
    public let subscriptions = SubscriptionRepository()
    public let invoices = InvoiceRepository()
    public let attempts = AttemptRepository()
    public let refunds = RefundRepository()
    public let cancellations = CancellationRepository()
    public let idempotency = IdempotencyRepository()
    public let jobs = JobRepository()
    public let outbox = OutboxRepository()
    public let webhookEndpoints = WebhookEndpointRepository()
    public let webhookMessages = WebhookMessageRepository()
    public let emails = EmailRepository()
    public let logger: Logger

    public init(database: Database, acquirers: AcquirerRegistry, acquiringLog: PostgresAcquiringLog, clock: BillingClock = .system, refundPolicy: RefundPolicy = .prorated, renewalTerms: RenewalTerms = .standard, logger: Logger) {
        self.database = database
        self.acquirers = acquirers
        self.acquiringLog = acquiringLog
        self.clock = clock
        self.refundPolicy = refundPolicy
        self.renewalTerms = renewalTerms
        self.logger = logger
    }

    /// The acquirer's card form for an invoice, described by its plan's title. The email goes to
    /// the acquirer for its receipt only where the viewer's own client asks (`includeEmail`), not
    /// on the payment page, which anyone holding its link can read.
    public func browserCheckout(for invoice: Invoice, description: String, includeEmail: Bool) throws -> (any Acquirer, BrowserCheckout) {
        let acquirer = try acquirers.acquirer(for: invoice)
        let request = CheckoutRequest(invoiceID: invoice.id, userID: invoice.userID, amount: invoice.amount, description: description, email: includeEmail ? invoice.email : nil)
        return (acquirer, acquirer.browserCheckout(for: request))
    }
}
