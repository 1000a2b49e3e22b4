import BillingCore
import Foundation
import Testing

@Suite("Payment attempts and what their money does")
struct PaymentAttemptTests {
    /// The attempt state machine, written out by hand: every (state, event) pair once.
    static let attemptTable: [(AttemptStatus, AttemptEvent, Transition<AttemptStatus>)] = [
        (.started, .started, .alreadyApplied(.started)),
        (.started, .succeeded, .move(from: .started, to: .succeeded)),
        (.started, .declined, .move(from: .started, to: .declined)),
        (.started, .abandoned, .move(from: .started, to: .abandoned)),
        (.succeeded, .started, .refused(.succeeded, reason: "the attempt already succeeded")),
        (.succeeded, .succeeded, .alreadyApplied(.succeeded)),
        (.succeeded, .declined, .refused(.succeeded, reason: "the attempt already succeeded")),
        (.succeeded, .abandoned, .refused(.succeeded, reason: "the attempt already succeeded")),
        (.declined, .started, .refused(.declined, reason: "the attempt is over")),
        (.declined, .succeeded, .move(from: .declined, to: .succeeded)),
        (.declined, .declined, .alreadyApplied(.declined)),
        (.declined, .abandoned, .refused(.declined, reason: "the attempt is over")),
        (.abandoned, .started, .refused(.abandoned, reason: "the attempt is over")),
        (.abandoned, .succeeded, .move(from: .abandoned, to: .succeeded)),
        (.abandoned, .declined, .move(from: .abandoned, to: .declined)),
        (.abandoned, .abandoned, .alreadyApplied(.abandoned)),
    ]

    @Test("the attempt table covers every pair", arguments: 0..<16)
    func attemptVerdict(row: Int) {
        #expect(Self.attemptTable.count == AttemptStatus.allCases.count * AttemptEvent.allCases.count)
        let (state, event, verdict) = Self.attemptTable[row]
        #expect(state.applying(event) == verdict, "\(state) + \(event)")
    }

    /// The refund state machine: created -> pending -> refunded | failed; refunded -> pending when its success was another refund's.
    static let refundTable: [(RefundStatus, RefundEvent, Transition<RefundStatus>)] = [
        (.created, .submitted, .move(from: .created, to: .pending)),
        (.created, .succeeded, .move(from: .created, to: .refunded)),
        (.created, .rejected, .move(from: .created, to: .failed)),
        (.pending, .submitted, .alreadyApplied(.pending)),
        (.pending, .succeeded, .move(from: .pending, to: .refunded)),
        (.pending, .rejected, .move(from: .pending, to: .failed)),
        (.refunded, .submitted, .refused(.refunded, reason: "the refund is done")),
        (.refunded, .succeeded, .alreadyApplied(.refunded)),
        (.refunded, .rejected, .refused(.refunded, reason: "the refund is done")),
        (.failed, .submitted, .refused(.failed, reason: "the refund failed; start a new one")),
        (.failed, .succeeded, .move(from: .failed, to: .refunded)),
        (.failed, .rejected, .alreadyApplied(.failed)),
        (.created, .misattributed, .alreadyApplied(.created)),
        (.pending, .misattributed, .alreadyApplied(.pending)),
        (.refunded, .misattributed, .move(from: .refunded, to: .pending)),
        (.failed, .misattributed, .refused(.failed, reason: "the refund failed; start a new one")),
    ]

    @Test("the refund table covers every pair", arguments: 0..<16)
    func refundVerdict(row: Int) {
        #expect(Self.refundTable.count == RefundStatus.allCases.count * RefundEvent.allCases.count)
        let (state, event, verdict) = Self.refundTable[row]
        #expect(state.applying(event) == verdict, "\(state) + \(event)")
    }

    let attempt = UUID()
    let account = "acc_00000000000000000000000000000001"

    func invoice(_ status: InvoiceStatus = .created, paidBy: UUID? = nil) -> InvoiceForPayment {
        InvoiceForPayment(amount: .rub(29900), accountID: account, status: status, paidAttemptID: paidBy)
    }

    @Test("the first matching attempt pays; its repeat does nothing; everything else goes back")
    func dispositions() {
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: invoice()) == .payInvoice)
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: invoice(.pending)) == .payInvoice)
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: invoice(.paid, paidBy: attempt)) == .alreadyApplied)
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: invoice(.paid, paidBy: UUID())) == .refund(.duplicateCharge))
        #expect(dispose(attemptID: attempt, amount: .rub(100), accountID: account, invoice: invoice()) == .refund(.amountMismatch))
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: "acc_someone_else", invoice: invoice()) == .refund(.accountMismatch))
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: nil, invoice: invoice()) == .refund(.accountMismatch))
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: nil) == .refund(.unknownInvoice))
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: invoice(.canceled)) == .refund(.invoiceClosed))
        #expect(dispose(attemptID: attempt, amount: .rub(29900), accountID: account, invoice: invoice(.failed)) == .refund(.invoiceClosed))
        // A wrong amount is refunded even when the invoice is already paid by another attempt.
        #expect(dispose(attemptID: attempt, amount: .rub(1), accountID: account, invoice: invoice(.paid, paidBy: UUID())) == .refund(.amountMismatch))
    }

    @Test("access starts at the reported payment time only when it is plausible")
    func paymentTime() {
        let created = Date(timeIntervalSince1970: 1_800_000_000)
        let received = created.addingTimeInterval(600)
        #expect(accessStart(reported: created.addingTimeInterval(300), invoiceCreatedAt: created, receivedAt: received) == created.addingTimeInterval(300))
        #expect(accessStart(reported: created.addingTimeInterval(-60), invoiceCreatedAt: created, receivedAt: received) == created.addingTimeInterval(-60), "a minute of clock skew is believed")
        #expect(accessStart(reported: Date(timeIntervalSince1970: 978_307_200), invoiceCreatedAt: created, receivedAt: received) == received, "2001 is before the invoice existed")
        #expect(accessStart(reported: received.addingTimeInterval(1), invoiceCreatedAt: created, receivedAt: received) == received, "the future is not believed")
        #expect(accessStart(reported: nil, invoiceCreatedAt: created, receivedAt: received) == received)
    }

    @Test("refunds hold part of their attempt until they fail")
    func refundable() {
        func refund(_ amount: Int64, _ status: RefundStatus) -> Refund {
            Refund(id: UUID(), attemptID: attempt, invoiceID: nil, acquirer: "cloudpayments", amount: .rub(amount), status: status, reason: .requestedByOperator, actor: "test", createdAt: Date())
        }
        #expect(refundableAmount(of: .rub(29900), after: []) == .rub(29900))
        #expect(refundableAmount(of: .rub(29900), after: [refund(10000, .refunded), refund(5000, .pending), refund(9000, .failed)]) == .rub(14900))
        #expect(refundableAmount(of: .rub(29900), after: [refund(29900, .created)]) == .rub(0))
    }

    @Test("a subscription whose access ended counts as expired wherever it is read")
    func lapse() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let subscription = Subscription(id: UUID(), userID: UUID(), planID: UUID(), status: .active, currentPeriod: BillingPeriod(start: start, months: 1), autoRenew: false, cancelAtPeriodEnd: false)
        let end = subscription.currentPeriod!.end
        #expect(subscription.effectiveStatus(at: end.addingTimeInterval(-1)) == .active)
        #expect(subscription.effectiveStatus(at: end) == .expired)
        #expect(!subscription.grantsAccess(at: end))
        var pending = subscription
        pending.status = .pending
        #expect(!pending.hasLapsed(at: end.addingTimeInterval(3600)))
    }
}
