/// Where an invoice is in its life: see DESIGN.md, "State machines".
public enum InvoiceStatus: String, Hashable, Sendable, CaseIterable, Codable {
    case created, pending, paid, failed, canceled

    /// An open invoice can still be paid through the normal flow.
    public var isOpen: Bool { self == .created || self == .pending }
}

/// Something that happens to an invoice.
public enum InvoiceEvent: String, Hashable, Sendable, CaseIterable {
    /// The acquirer asked whether to accept a payment (Check) and we said yes, or we sent a charge.
    case paymentStarted = "payment_started"
    /// A matching attempt took the money (Pay).
    case paymentSucceeded = "payment_succeeded"
    /// An attempt ended without money (Fail, or abandoned at 3-D Secure).
    case paymentFailed = "payment_failed"
    /// The viewer abandoned the invoice (a new checkout for another plan, or it expired).
    case abandoned
}

extension InvoiceStatus {
    /// The invoice state machine as a pure function.
    ///
    /// A declined attempt ends the attempt, not the invoice: the invoice goes back to `created`
    /// with its last failure shown, so the payer can retry in the same widget. Money taken for a
    /// canceled or failed invoice does not revive it: that attempt is refunded instead
    /// (`dispose(attemptID:amount:accountID:invoice:)`). Nothing ever moves a paid invoice back.
    public func applying(_ event: InvoiceEvent) -> Transition<InvoiceStatus> {
        switch (self, event) {
        case (.created, .paymentStarted): .move(from: self, to: .pending)
        case (.pending, .paymentStarted): .alreadyApplied(self)

        case (.created, .paymentSucceeded), (.pending, .paymentSucceeded): .move(from: self, to: .paid)
        case (.paid, .paymentSucceeded): .alreadyApplied(self)

        case (.pending, .paymentFailed): .move(from: self, to: .created)
        case (.created, .paymentFailed), (.failed, .paymentFailed): .alreadyApplied(self)

        case (.created, .abandoned): .move(from: self, to: .canceled)
        case (.canceled, .abandoned): .alreadyApplied(self)

        case (.paid, _): .refused(self, reason: "invoice is already paid")
        case (.failed, _): .refused(self, reason: "invoice has failed; start a new checkout")
        case (.canceled, _): .refused(self, reason: "invoice was canceled")
        case (.pending, .abandoned): .refused(self, reason: "a payment is in progress")
        }
    }
}
