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
    /// The acquirer reports money taken (Pay).
    case paymentSucceeded = "payment_succeeded"
    /// The acquirer reports a decline (Fail).
    case paymentFailed = "payment_failed"
    /// The viewer abandoned the invoice (a new checkout for another plan, or it expired).
    case abandoned
}

extension InvoiceStatus {
    /// The invoice state machine as a pure function.
    ///
    /// Money that the acquirer reports taken always wins: a Pay that arrives after a Fail of an
    /// earlier attempt, or after the invoice was abandoned, still marks it paid, because the
    /// viewer was charged and must get what they paid for. Nothing ever moves a paid invoice back.
    public func applying(_ event: InvoiceEvent) -> Transition<InvoiceStatus> {
        switch (self, event) {
        case (.created, .paymentStarted): .move(from: self, to: .pending)
        case (.pending, .paymentStarted): .alreadyApplied(self)

        case (.created, .paymentSucceeded), (.pending, .paymentSucceeded),
             (.failed, .paymentSucceeded), (.canceled, .paymentSucceeded):
            .move(from: self, to: .paid)
        case (.paid, .paymentSucceeded): .alreadyApplied(self)

        case (.created, .paymentFailed), (.pending, .paymentFailed): .move(from: self, to: .failed)
        case (.failed, .paymentFailed): .alreadyApplied(self)

        case (.created, .abandoned): .move(from: self, to: .canceled)
        case (.canceled, .abandoned): .alreadyApplied(self)

        case (.paid, _): .refused(self, reason: "invoice is already paid")
        case (.failed, _): .refused(self, reason: "invoice has failed; start a new checkout")
        case (.canceled, _): .refused(self, reason: "invoice was canceled")
        case (.pending, .abandoned): .refused(self, reason: "a payment is in progress")
        }
    }
}
