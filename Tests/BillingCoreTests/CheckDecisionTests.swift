import BillingCore
import Foundation
import Testing

@Suite("Check decision")
struct CheckDecisionTests {
    let account = "acc_0123456789abcdef0123456789abcdef"
    let created = Date(timeIntervalSince1970: 1_800_000_000)

    func invoice(_ status: InvoiceStatus = .created) -> InvoiceForCheck {
        InvoiceForCheck(accountID: account, amount: .rub(29900), status: status, createdAt: created)
    }

    func claim(account: String? = nil, amount: Money? = .rub(29900)) -> PaymentClaim {
        PaymentClaim(accountID: account ?? self.account, amount: amount)
    }

    @Test func acceptsAMatchingPayment() {
        #expect(decideCheck(invoice: invoice(), claim: claim(), now: created) == .accept)
        #expect(decideCheck(invoice: invoice(.pending), claim: claim(), now: created) == .accept)
    }

    @Test func unknownInvoiceIs10() {
        #expect(decideCheck(invoice: nil, claim: claim(), now: created).rawValue == 10)
    }

    @Test func anotherAccountIs11() {
        #expect(decideCheck(invoice: invoice(), claim: claim(account: UUID().uuidString), now: created).rawValue == 11)
        #expect(decideCheck(invoice: invoice(), claim: PaymentClaim(accountID: nil, amount: .rub(29900)), now: created).rawValue == 11)
    }

    @Test func wrongAmountIs12() {
        #expect(decideCheck(invoice: invoice(), claim: claim(amount: .rub(29800)), now: created).rawValue == 12)
        #expect(decideCheck(invoice: invoice(), claim: claim(amount: nil), now: created).rawValue == 12)
    }

    @Test("a settled invoice cannot be paid again: 13", arguments: [InvoiceStatus.paid, .failed, .canceled])
    func settledIs13(status: InvoiceStatus) {
        #expect(decideCheck(invoice: invoice(status), claim: claim(), now: created).rawValue == 13)
    }

    @Test func expiryIsTwentyFourHours() {
        #expect(!checkoutExpired(createdAt: created, now: created.addingTimeInterval(24 * 3600)))
        #expect(checkoutExpired(createdAt: created, now: created.addingTimeInterval(24 * 3600 + 1)))
    }

    @Test func staleInvoiceIs20() {
        let later = created.addingTimeInterval(checkoutLifetime + 1)
        #expect(decideCheck(invoice: invoice(), claim: claim(), now: later).rawValue == 20)
        #expect(decideCheck(invoice: invoice(), claim: claim(), now: created.addingTimeInterval(checkoutLifetime)) == .accept)
    }
}
