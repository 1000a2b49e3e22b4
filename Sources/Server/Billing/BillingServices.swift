import Acquiring
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
}
