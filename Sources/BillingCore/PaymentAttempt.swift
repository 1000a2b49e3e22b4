import Foundation

/// One acquirer transaction for an invoice: a Check or a charge starts it, Pay or Fail ends it.
/// An invoice may have several; a decline ends the attempt, not the invoice.
public struct PaymentAttempt: Hashable, Sendable {
    public var id: UUID
    public var acquirer: String
    public var transactionID: String
    /// The invoice it pays, when the acquirer named one we have.
    public var invoiceID: UUID?
    /// What the acquirer said the invoice was, verbatim.
    public var claimedInvoiceID: String?
    public var amount: Money
    public var accountID: String?
    public var status: AttemptStatus
    public var card: CardDetails?
    public var decline: Decline?
    public var succeededAt: Date?
    public var createdAt: Date

    public init(id: UUID, acquirer: String, transactionID: String, invoiceID: UUID?, claimedInvoiceID: String?, amount: Money, accountID: String?, status: AttemptStatus, card: CardDetails? = nil, decline: Decline? = nil, succeededAt: Date? = nil, createdAt: Date) {
        self.id = id
        self.acquirer = acquirer
        self.transactionID = transactionID
        self.invoiceID = invoiceID
        self.claimedInvoiceID = claimedInvoiceID
        self.amount = amount
        self.accountID = accountID
        self.status = status
        self.card = card
        self.decline = decline
        self.succeededAt = succeededAt
        self.createdAt = createdAt
    }
}

/// Where an attempt is: see DESIGN.md, "State machines".
public enum AttemptStatus: String, Hashable, Sendable, CaseIterable, Codable {
    /// Accepted by our Check or sent by us; no outcome yet.
    case started
    /// The acquirer took the money.
    case succeeded
    /// The acquirer declined it.
    case declined
    /// Never finished (3-D Secure left open) and found so by reconciliation.
    case abandoned
}

/// What the acquirer reports about an attempt.
public enum AttemptEvent: String, Hashable, Sendable, CaseIterable {
    case started, succeeded, declined, abandoned
}

extension AttemptStatus {
    /// The attempt state machine as a pure function. Money taken wins over everything: a success
    /// reported after a decline or an abandonment (notifications arrive out of order) still counts.
    public func applying(_ event: AttemptEvent) -> Transition<AttemptStatus> {
        switch (self, event) {
        case (.started, .started), (.succeeded, .succeeded), (.declined, .declined), (.abandoned, .abandoned):
            .alreadyApplied(self)
        case (.started, .succeeded), (.declined, .succeeded), (.abandoned, .succeeded):
            .move(from: self, to: .succeeded)
        case (.started, .declined), (.abandoned, .declined):
            .move(from: self, to: .declined)
        case (.started, .abandoned):
            .move(from: self, to: .abandoned)
        case (.succeeded, _):
            .refused(self, reason: "the attempt already succeeded")
        case (.declined, _), (.abandoned, .started):
            .refused(self, reason: "the attempt is over")
        }
    }
}
