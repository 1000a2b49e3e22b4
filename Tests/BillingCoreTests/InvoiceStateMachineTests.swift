import BillingCore
import Testing

@Suite("Invoice state machine")
struct InvoiceStateMachineTests {
    /// The whole table, written out by hand from DESIGN.md: every (state, event) pair once.
    static let expected: [(InvoiceStatus, InvoiceEvent, Transition<InvoiceStatus>)] = [
        (.created, .paymentStarted, .move(from: .created, to: .pending)),
        (.created, .paymentSucceeded, .move(from: .created, to: .paid)),
        (.created, .paymentFailed, .alreadyApplied(.created)),
        (.created, .abandoned, .move(from: .created, to: .canceled)),

        (.pending, .paymentStarted, .alreadyApplied(.pending)),
        (.pending, .paymentSucceeded, .move(from: .pending, to: .paid)),
        (.pending, .paymentFailed, .move(from: .pending, to: .created)),
        (.pending, .abandoned, .refused(.pending, reason: "a payment is in progress")),

        (.paid, .paymentStarted, .refused(.paid, reason: "invoice is already paid")),
        (.paid, .paymentSucceeded, .alreadyApplied(.paid)),
        (.paid, .paymentFailed, .refused(.paid, reason: "invoice is already paid")),
        (.paid, .abandoned, .refused(.paid, reason: "invoice is already paid")),

        (.failed, .paymentStarted, .refused(.failed, reason: "invoice has failed; start a new checkout")),
        (.failed, .paymentSucceeded, .refused(.failed, reason: "invoice has failed; start a new checkout")),
        (.failed, .paymentFailed, .alreadyApplied(.failed)),
        (.failed, .abandoned, .refused(.failed, reason: "invoice has failed; start a new checkout")),

        (.canceled, .paymentStarted, .refused(.canceled, reason: "invoice was canceled")),
        (.canceled, .paymentSucceeded, .refused(.canceled, reason: "invoice was canceled")),
        (.canceled, .paymentFailed, .refused(.canceled, reason: "invoice was canceled")),
        (.canceled, .abandoned, .alreadyApplied(.canceled)),
    ]

    @Test("the table covers every state and event")
    func tableIsComplete() {
        #expect(Self.expected.count == InvoiceStatus.allCases.count * InvoiceEvent.allCases.count)
    }

    @Test("each state and event gives the designed verdict", arguments: 0..<20)
    func verdict(row: Int) {
        let (state, event, verdict) = Self.expected[row]
        #expect(state.applying(event) == verdict, "\(state) + \(event)")
    }

    @Test("nothing ever moves a paid invoice")
    func paidIsFinal() {
        for event in InvoiceEvent.allCases {
            #expect(InvoiceStatus.paid.applying(event).resultingState == .paid)
        }
    }

    @Test("only created and pending invoices are open")
    func openStates() {
        #expect(InvoiceStatus.allCases.filter(\.isOpen) == [.created, .pending])
    }
}
